import type { Command } from 'commander';
import { notBuilt } from './main.ts';

export function register(program: Command): void {
  notBuilt(program, 'doctor', 'check that this machine can run a backend');
}
