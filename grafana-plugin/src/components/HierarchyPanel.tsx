import React, { useMemo, useState } from 'react';
import { DataFrame, GrafanaTheme2, PanelProps } from '@grafana/data';
import { useTheme2 } from '@grafana/ui';
import { HierarchyOptions } from '../types';
import { buildModel, HierarchyModel } from '../data/hierarchy';
import { HierarchyView } from './HierarchyView';

export function parseLevels(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

interface Inputs {
  series: DataFrame[];
  levels: string[];
  alertsRefId: string;
  inventoryRefId: string;
  summaryLabel: string;
  theme: GrafanaTheme2;
}

interface Built {
  inputs: Inputs;
  model: HierarchyModel | undefined;
}

export type HierarchyPanelProps = PanelProps<HierarchyOptions> & {
  /** Path to open first; the harness's store and till views use it (Grafana never passes it). */
  initialView?: string[];
};

/** The panel: turns query frames into the model once per data change, and hands it to the view. */
export function HierarchyPanel({ data, width, height, options, replaceVariables, initialView }: HierarchyPanelProps) {
  const theme = useTheme2();
  const levels = useMemo(() => parseLevels(options.levels), [options.levels]);
  // The model of the last refresh feeds the next build (places keep their ids and their layout, vanished
  // leaves stay visible as stale), so it is kept as state and rebuilt during render when an input changes
  // (React's "derive state" pattern).
  const [built, setBuilt] = useState<Built | undefined>(undefined);
  const inputs: Inputs = {
    series: data.series,
    levels,
    alertsRefId: options.alertsRefId,
    inventoryRefId: options.inventoryRefId,
    summaryLabel: options.summaryLabel,
    theme,
  };
  let model = built?.model;
  if (!built || (Object.keys(inputs) as Array<keyof Inputs>).some((k) => built.inputs[k] !== inputs[k])) {
    model =
      levels.length > 0
        ? buildModel(data.series, {
            levels,
            alertsRefId: options.alertsRefId,
            inventoryRefId: options.inventoryRefId,
            summaryLabel: options.summaryLabel,
            theme,
            previous: built?.model,
          })
        : undefined;
    setBuilt({ inputs, model });
  }

  return (
    <HierarchyView
      model={model}
      error={levels.length === 0 ? 'Option "Levels": name at least one label' : undefined}
      width={width}
      height={height}
      options={options}
      replaceVariables={replaceVariables}
      initialView={initialView}
    />
  );
}
