/**
 * The kindest/node images Hookpoint pins, each by digest and with the kind release that built it:
 * kind supports a node image "with the kind version they were released with (and best effort
 * with other releases)", and a tag alone can be re-pushed, so a run names both. Source of every
 * row: the default node image of that kind release, `pkg/apis/config/defaults/image.go` at the
 * release tag in kubernetes-sigs/kind (read at the tags listed).
 */
import { parseK8sVersion } from '../k8s/cilium-versions.ts';

export interface KindNodeImage {
  /** The Kubernetes version of the image ("v1.27.3"). */
  k8s: string;
  /** The kind release whose default image this is (install that kind to use it). */
  kind: string;
  /** The full reference, tag and digest. */
  image: string;
}

export const KIND_NODE_IMAGES_SOURCE =
  'kubernetes-sigs/kind pkg/apis/config/defaults/image.go at each release tag (const Image)';

export const KIND_NODE_IMAGES: readonly KindNodeImage[] = [
  {
    k8s: 'v1.27.3',
    kind: 'v0.20.0',
    image: 'kindest/node:v1.27.3@sha256:3966ac761ae0136263ffdb6cfd4db23ef8a83cba8a463690e98317add2c9ba72',
  },
  {
    k8s: 'v1.29.2',
    kind: 'v0.22.0',
    image: 'kindest/node:v1.29.2@sha256:51a1434a5397193442f0be2a297b488b6c919ce8a3931be0ce822606ea5ca245',
  },
  {
    k8s: 'v1.30.0',
    kind: 'v0.23.0',
    image: 'kindest/node:v1.30.0@sha256:047357ac0cfea04663786a612ba1eaba9702bef25227a794b52890dd8bcd692e',
  },
  {
    k8s: 'v1.31.2',
    kind: 'v0.25.0',
    image: 'kindest/node:v1.31.2@sha256:18fbefc20a7113353c7b75b5c869d7145a6abd6269154825872dc59c1329912e',
  },
  {
    k8s: 'v1.32.2',
    kind: 'v0.27.0',
    image: 'kindest/node:v1.32.2@sha256:f226345927d7e348497136874b6d207e0b32cc52154ad8323129352923a3142f',
  },
  {
    k8s: 'v1.33.1',
    kind: 'v0.29.0',
    image: 'kindest/node:v1.33.1@sha256:050072256b9a903bd914c0b2866828150cb229cea0efe5892e2b644d5dd3b34f',
  },
  {
    k8s: 'v1.34.0',
    kind: 'v0.30.0',
    image: 'kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a',
  },
];

/** The pinned image for a Kubernetes version, if Hookpoint knows one. */
export function pinnedNodeImage(k8sVersion: string): KindNodeImage | undefined {
  const v = parseK8sVersion(k8sVersion);
  return KIND_NODE_IMAGES.find((r) => r.k8s === v);
}
