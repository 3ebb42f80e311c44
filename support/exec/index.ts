export {
  type BackgroundProcess,
  cancelAll,
  cancelled,
  type RunOptions,
  type RunResult,
  run,
  spawnBackground,
} from './command.ts';
export { isSecretKey, redact, registerSecret, registerSecretValues } from './redact.ts';
export { prepareSpawner } from './spawner-client.ts';
export {
  activeTranscript,
  type CommandRecord,
  formatArgv,
  shellQuote,
  Transcript,
  useTranscript,
} from './transcript.ts';
export { which } from './which.ts';
