// @grafana/ui is supplied by Grafana at run time (a webpack external). It is not installed in this repo
// because its dependency tree pulls a GitHub tarball (react-data-grid) that an offline or registry-only
// install cannot fetch; this declares the single hook the panel uses.
declare module '@grafana/ui' {
  import { GrafanaTheme2 } from '@grafana/data';
  export function useTheme2(): GrafanaTheme2;
}
