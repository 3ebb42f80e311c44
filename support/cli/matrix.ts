import type { Command } from 'commander';
import { notBuilt } from './main.ts';

export function register(program: Command): void {
  notBuilt(program, 'matrix', 'run the suite across Cilium versions');
}
