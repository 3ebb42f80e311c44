/**
 * Every backend's descriptor (what it is: doctor checks, Helm values it honours, environment
 * labels, failure collectors, tool locations), by name. Pure data: reading it creates no backend.
 */
import { EXISTING_DESCRIPTOR } from './existing/descriptor.ts';
import { KIND_DESCRIPTOR } from './kind/descriptor.ts';
import { LAB_DESCRIPTOR } from './lab/descriptor.ts';
import type { BackendDescriptor, BackendName } from './types.ts';

export const BACKEND_DESCRIPTORS: Readonly<Record<BackendName, BackendDescriptor>> = {
  lab: LAB_DESCRIPTOR,
  kind: KIND_DESCRIPTOR,
  existing: EXISTING_DESCRIPTOR,
};

export function descriptorOf(name: BackendName): BackendDescriptor {
  return BACKEND_DESCRIPTORS[name];
}

/** The descriptor of a name read from results or input, when it is a backend. */
export function findDescriptor(name: string | undefined): BackendDescriptor | undefined {
  return name !== undefined && Object.hasOwn(BACKEND_DESCRIPTORS, name)
    ? BACKEND_DESCRIPTORS[name as BackendName]
    : undefined;
}
