import { createTheme, GrafanaTheme2 } from '@grafana/data';

/**
 * Stand-in for the one @grafana/ui export the panel uses, for running it outside Grafana (the harness and
 * Jest). Inside Grafana the real @grafana/ui is an external supplied by the host. The theme mode follows
 * `?theme=light` in the harness; dark otherwise, as Grafana's default.
 */
const mode = typeof location !== 'undefined' && /[?&]theme=light\b/.test(location.search) ? 'light' : 'dark';
const theme = createTheme({ colors: { mode } });

export function useTheme2(): GrafanaTheme2 {
  return theme;
}
