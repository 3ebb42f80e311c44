import type { Command } from 'commander';
import { notBuilt } from './main.ts';

export function register(program: Command): void {
  notBuilt(program, 'lab', 'manage the embedded lab backend');
}
