/**
 * The lab's host prerequisites: can this machine run the lab? Root and the tools, checked
 * without spawning anything (the same PATH lookup `hookpoint doctor` uses, so the two always
 * agree). One paragraph naming the apt packages otherwise.
 */
import { existsSync } from 'node:fs';
import { EnvironmentError } from '../../errors.ts';
import { LAB_APT_PACKAGES } from '../../exec/host-tools.ts';
import { which } from '../../exec/index.ts';
import { type IptablesMode, iptablesCommand } from '../../kube-proxy/mode.ts';

export { LAB_APT_PACKAGES };

export function requireHostPrerequisites(opts: { iptables: IptablesMode; datapath: boolean }): void {
  const install = `apt-get install -y ${LAB_APT_PACKAGES.join(' ')}`;
  if (process.getuid?.() !== 0)
    throw new EnvironmentError(
      'The lab backend needs root: it creates network namespaces, veth pairs, routes and iptables rules, and loads eBPF programs.',
      `Rerun as root (sudo -E npx hookpoint …) on a machine with the packages ${LAB_APT_PACKAGES.join(', ')} (\`${install}\`).`,
    );
  const tools: Array<[string, string]> = [
    ['ip', 'iproute2'],
    ['tc', 'iproute2'],
    [iptablesCommand(opts.iptables, 'restore'), 'iptables'],
    [iptablesCommand(opts.iptables, 'save'), 'iptables'],
    [iptablesCommand(opts.iptables), 'iptables'],
    ['setsid', 'util-linux'],
    ['umount', 'mount'],
  ];
  if (opts.datapath) tools.push(['bpftool', 'bpftool'], ['clang', 'clang']);
  const missing = tools.filter(([t]) => !which(t));
  if (opts.datapath && !existsSync('/usr/include/bpf/bpf_helpers.h')) missing.push(['bpf/bpf_helpers.h', 'libbpf-dev']);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, p]) => p))];
    throw new EnvironmentError(
      `The lab backend cannot run here: ${missing.map(([t, p]) => `${t} (package ${p})`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing.`,
      `Install the lab's packages with \`${install}\`${pkgs.some((p) => !LAB_APT_PACKAGES.includes(p)) ? ` plus ${pkgs.filter((p) => !LAB_APT_PACKAGES.includes(p)).join(' ')}` : ''}, then rerun; \`hookpoint doctor\` shows what else is missing.`,
    );
  }
}
