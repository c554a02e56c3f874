import { MappingType, ThresholdsMode } from '@grafana/data';
import { healthRulesToFieldConfig, MigratingPanel, migrateOptions } from './migration';

describe('migration of version 1 panels', () => {
  it('turns health rules into thresholds and value mappings by state colour', () => {
    expect(healthRulesToFieldConfig('2=info, base:critical, 0.5:warning, 1:ok')).toEqual({
      thresholds: [
        { value: -Infinity, color: 'red' },
        { value: 0.5, color: 'orange' },
        { value: 1, color: 'green' },
      ],
      mappings: [{ type: MappingType.ValueToText, options: { '2': { color: 'blue', index: 0 } } }],
    });
    expect(() => healthRulesToFieldConfig('1:fine')).toThrow('"1:fine"');
  });

  it('moves rules and link templates into the field config and drops them from the options', () => {
    const panel: MigratingPanel = {
      id: 1,
      type: 'tillwatch-hierarchy-panel',
      pluginVersion: '1.0.0',
      options: {
        levels: 'chain,region,store,till',
        healthRules: 'base:critical, 1:ok',
        tillDashboardUrl: '/d/tillwatch-till?var-till=${till}',
        ticketUrl: '',
        runbookUrl: '${runbook_url:raw}',
      } as never,
      fieldConfig: { defaults: {}, overrides: [] },
    };
    const options = migrateOptions(panel);
    expect(options).toEqual({ levels: 'chain,region,store,till' });
    expect(panel.fieldConfig.defaults.thresholds).toEqual({
      mode: ThresholdsMode.Absolute,
      steps: [
        { value: -Infinity, color: 'red' },
        { value: 1, color: 'green' },
      ],
    });
    expect(panel.fieldConfig.defaults.links).toEqual([
      { title: 'Till dashboard', url: '/d/tillwatch-till?var-till=${till}', targetBlank: true },
      { title: 'Runbook', url: '${runbook_url:raw}', targetBlank: true },
    ]);
  });
});
