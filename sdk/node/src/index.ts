// index.ts: the public entry point of the Cord child SDK for Node.js.

import './early.js';
export { connect, channelIsCloseOnExec, VERSION } from './connect.js';
export type { ConnectOptions } from './connect.js';
export type {
  Binding, Channel, Incoming, IncomingMessage, IncomingRequest, Notice, PeerInfo, Reply, ReplyOptions, RequestOptions,
} from './channel.js';
export { CordError, Code, codeName, isFatal, exitStatusFor } from './errors.js';
export type { CodeValue } from './errors.js';
export { empty, json, jsonText, raw, typed, parseJson, decodeTyped, text } from './payload.js';
export type { Payload } from './payload.js';
