import React, { useMemo, useState } from 'react';
import { DataFrame, PanelProps } from '@grafana/data';
import { useTheme2 } from '@grafana/ui';
import { HierarchyOptions } from '../types';
import { buildModel, HierarchyModel } from '../data/hierarchy';
import { HealthRules, parseHealthRules } from '../data/states';
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
  rules: HealthRules | undefined;
  alertsRefId: string;
  summaryLabel: string;
}

interface Built {
  inputs: Inputs;
  model: HierarchyModel | undefined;
}

/** The panel: turns query frames into the model once per data change, and hands it to the view. */
export function HierarchyPanel({ data, width, height, options, replaceVariables }: PanelProps<HierarchyOptions>) {
  const theme = useTheme2();
  const levels = useMemo(() => parseLevels(options.levels), [options.levels]);
  const parsed = useMemo((): { rules?: HealthRules; error?: string } => {
    try {
      return { rules: parseHealthRules(options.healthRules) };
    } catch (e) {
      return { error: `Option "Health rules": ${(e as Error).message}` };
    }
  }, [options.healthRules]);
  // The model of the last refresh feeds the next build (vanished leaves stay visible as stale), so it is
  // kept as state and rebuilt during render when an input changes (React's "derive state" pattern).
  const [built, setBuilt] = useState<Built | undefined>(undefined);
  const inputs: Inputs = {
    series: data.series,
    levels,
    rules: parsed.rules,
    alertsRefId: options.alertsRefId,
    summaryLabel: options.summaryLabel,
  };
  let model = built?.model;
  if (!built || (Object.keys(inputs) as Array<keyof Inputs>).some((k) => built.inputs[k] !== inputs[k])) {
    model =
      parsed.rules && levels.length > 0
        ? buildModel(data.series, {
            levels,
            rules: parsed.rules,
            alertsRefId: options.alertsRefId,
            summaryLabel: options.summaryLabel,
            previous: built?.model,
          })
        : undefined;
    setBuilt({ inputs, model });
  }

  const error = parsed.error ?? (levels.length === 0 ? 'Option "Levels": name at least one label' : undefined);
  return (
    <HierarchyView
      model={model}
      error={error}
      theme={theme}
      width={width}
      height={height}
      options={options}
      replaceVariables={replaceVariables}
    />
  );
}
