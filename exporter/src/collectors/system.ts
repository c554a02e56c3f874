// Filled in by the exporter framework work (issue #3).
export {};
