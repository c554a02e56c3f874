// ipp-encoder ships no types; these cover what drivers/ipp.ts uses.
declare module 'ipp-encoder' {
  export interface IppAttribute {
    tag: number;
    name: string;
    value: unknown;
  }
  export interface IppGroup {
    tag: number;
    attributes: IppAttribute[];
  }
  export interface IppMessage {
    version?: { major: number; minor: number };
    operationId?: number;
    statusCode?: number;
    requestId: number;
    groups: IppGroup[];
  }
  export const CONSTANTS: Record<string, number>;
  export const request: { encode(msg: IppMessage): Buffer; decode(buf: Buffer): IppMessage };
  export const response: {
    encode(msg: IppMessage): Buffer;
    decode(buf: Buffer): IppMessage & { statusCode: number };
  };
}
