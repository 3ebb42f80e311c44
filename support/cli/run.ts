import type { Command } from 'commander';
import { notBuilt } from './main.ts';

export function register(program: Command): void {
  notBuilt(program, 'run', 'run features on a backend and render the report');
}
