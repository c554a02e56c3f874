// The action channel's signing scheme, shared with the other end: packages/config/src/action-signing.ts.
export * from '@tillwatch/config/action-signing';
