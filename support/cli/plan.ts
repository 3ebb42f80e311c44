import type { Command } from 'commander';
import { notBuilt } from './main.ts';

export function register(program: Command): void {
  notBuilt(program, 'plan', 'print the provisioning commands without running them');
}
