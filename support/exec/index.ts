export { isSecretKey, redact, registerSecret, registerSecretValues } from './redact.ts';
export {
  type BackgroundProcess,
  cancelAll,
  cancelled,
  type RunOptions,
  type RunResult,
  run,
  spawnBackground,
} from './runner.ts';
export {
  activeTranscript,
  type CommandRecord,
  formatArgv,
  shellQuote,
  Transcript,
  useTranscript,
} from './transcript.ts';
