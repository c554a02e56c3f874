/**
 * What the harness page offers its drivers (the end-to-end test, the bench) as `window.tillwatchHarness`.
 * Types only, so Node code can import them without the panel.
 */

/** A rectangle of the last paint: the place's path, its kind, its state and where it is, in CSS px. */
export interface DrawnRect {
  path: string;
  kind: 'cell' | 'group';
  state: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** One timed refresh of the bench. */
export interface RefreshTiming {
  /** From new frames to the repainted canvas: model build, React commit and paint. */
  ms: number;
  buildMs: number;
  drawMs: number;
  /** Rectangles painted again. */
  repainted: number;
  /** Whether the layout object stayed the same (no re-layout). */
  sameLayout: boolean;
  /**
   * How the build got its writable buffers: `ready` when the idle warm-up after the previous paint had brought
   * them up to date, else `partly ready`, `replayed`, `copied` (on the refresh's clock), or `full build`.
   */
  carried: string;
  /** CPU-bound ms the idle warm-up after the previous paint took (off the refresh's clock); NaN if it had not ended. */
  warmMs: number;
}

export interface HarnessApi {
  firstDrawMs?: number;
  buildMs?: number;
  refreshes: number;
  /** Queries Prometheus again now (prom mode), resolving when the new frames are rendered. */
  refresh(): Promise<void>;
  hover(samples: number): Promise<number[]>;
  drill(samples: number): Promise<number[]>;
  /** Bench mode: prepares the next refresh, in which one till in 100 changes state (down, then up again). */
  benchNext(): void;
  /** Bench mode: renders the prepared refresh. */
  benchRender(): RefreshTiming;
  /** Bench mode: draws the first frames again from nothing (a new React root); the wall-clock ms. */
  benchFirst(): number;
  /** Every rectangle of the last paint. */
  rects(): DrawnRect[];
}
