// SPDX-License-Identifier: GPL-2.0
/*
 * Hookpoint lab: service translation at tc, the way Cilium does it with
 * kubeProxyReplacement=false in native-routing mode (ClusterIP only; NodePort and host
 * traffic stay with kube-proxy). Written for the lab's kernel reproduction; not Cilium code.
 *
 * Program layout (names and tail-call slots as Cilium's bpf_lxc; see NodeDatapath). The object
 * is loaded once per endpoint, each load with its own program array cilium_calls (pinned as
 * cilium_calls_<endpoint id, 5 digits>) and the node's shared maps:
 *
 * cil_from_container   tc ingress of the endpoint's lxc: IPv4 -> tail call
 *                      cilium_calls[CILIUM_CALL_IPV4_FROM_LXC]
 *   tail_handle_ipv4   ClusterIP:port -> backend DNAT (backend chosen once per connection, ct4);
 *                      a packet for a same-node endpoint (translated, a reply to translate
 *                      back, or plain) -> tail call cilium_call_policy[destination endpoint id];
 *                      that slot empty (no local redirect) or anything else: TC_ACT_OK, the
 *                      kernel routes it (legacy host routing)
 * cil_lxc_policy       the endpoint's entry in the node's cilium_call_policy: tail call its own
 *                      cilium_calls[CILIUM_CALL_IPV4_TO_LXC_POLICY_ONLY]
 *   tail_ipv4_policy   delivery to this endpoint: reverse NAT of a same-node reply, TTL-1, L2
 *                      rewrite, bpf_redirect to its lxc; untranslated traffic goes to the stack
 * cil_to_container     tc egress of the endpoint's lxc: packets redirected above are only
 *                      un-marked (already traced); IPv4 -> tail call
 *                      cilium_calls[CILIUM_CALL_IPV4_TO_ENDPOINT]
 *   tail_ipv4_to_endpoint  reverse NAT of replies that came through the stack (remote
 *                      backends, and same-node backends without local redirect)
 *
 * Network policy (ENABLE_POLICY, runtime flag LAB_F_POLICY), as Cilium enforces it: every address
 * has a numeric security identity (cilium_ipcache, world when unknown); each endpoint has its
 * own policy map cilium_policy_<endpoint id> (replaced per load like cilium_calls) consulted on
 * the endpoint's egress (tail_handle_ipv4, after service translation) and on delivery to it
 * (tail_ipv4_policy before the redirect, tail_ipv4_to_endpoint from the stack). A direction no
 * policy selects holds the "not enforced" key and allows everything; lab_policy_ct lets the
 * packets of an allowed connection and its replies pass. A denied packet emits a drop record,
 * a new connection in an enforced direction a policy-verdict record.
 *
 * Tunnel mode (compiled with -DLAB_TUNNEL, routingMode=tunnel; see the "Tunnel mode" section):
 * a packet for another node's pod CIDR (cilium_tunnel_map) gets the tunnel key towards that
 * node's IP and is redirected to the node's external (collect_md) cilium_vxlan device, from the
 * pod path (tail_handle_ipv4) and from the host (cil_from_host, cilium_host egress);
 * cil_from_overlay (cilium_vxlan ingress) delivers decapsulated packets to the local pod, or to
 * the host through cilium_host.
 *
 * Every IPv4 packet seen produces one trace record in the perf event array `events` when
 * config flag LAB_F_TRACE is set, emitted where its fate is decided. A record prepared before
 * a tail call waits in the per-CPU map lab_pending_ev (a tail call never leaves the CPU).
 *
 * Shared with lab_kpr.c through lab_common.h: lab_config, lb4_services, lxc_endpoints, events,
 * the packet parse and the address/port rewrites.
 */
#include "lab_common.h"

/* The node's local-redirect mode, for status readers. The programs follow cilium_call_policy:
 * the agent side fills it only when local redirect is on. */
#define LAB_F_LOCAL_REDIRECT 0x2
/* Network policy enforcement (cleared by the `no-policy` variant). */
#define LAB_F_POLICY 0x4

/* Compile the policy sections (the loader always does; a build without them enforces nothing). */
#define ENABLE_POLICY 1

/* skb->mark set on packets redirected by tail_ipv4_policy (cleared by cil_to_container). */
#define LAB_MARK_REDIRECTED 0x0b1ab000

/* Tail-call slots of cilium_calls, Cilium's numbers (bpf/lib/common.h). */
#define CILIUM_CALL_IPV4_FROM_LXC 7
#define CILIUM_CALL_IPV4_TO_LXC_POLICY_ONLY 11
#define CILIUM_CALL_IPV4_TO_ENDPOINT 13
#define CILIUM_CALL_SIZE 48
/* cilium_call_policy is indexed by endpoint id (16 bits). */
#define POLICY_PROG_MAP_SIZE 65536

/* skb->cb[0] of a packet that tail_handle_ipv4 hands to cil_lxc_policy with a pending record. */
#define LAB_CB_PENDING 0x1ab0ce11

#define OBS_TO_STACK 1
#define OBS_TO_ENDPOINT_REDIRECT 2
#define OBS_TO_ENDPOINT 3
/* Policy records (same layout; see struct trace_ev). */
#define OBS_DROP 4
#define OBS_POLICY_VERDICT 5
#define OBS_TO_OVERLAY 6

#define XLATE_NONE 0
#define XLATE_DNAT 1
#define XLATE_REVNAT 2

#define STATE_UNTRACKED 0
#define STATE_NEW 1
#define STATE_ESTABLISHED 2
#define STATE_REPLY 3

struct ct_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 dir; /* 0 forward (client -> vip), 1 reverse (backend -> client) */
	__u16 pad;
};

struct ct_val {
	__u32 addr; /* forward: backend ip; reverse: vip */
	__u16 port; /* forward: backend port; reverse: vip port */
	__u8 slot;
	__u8 count;
	__u64 packets;
};

/*
 * One trace record: 64 bytes, fixed layout read by monitor.ts. Policy records (obs OBS_DROP,
 * OBS_POLICY_VERDICT) reuse fields: target_ifindex = source line of the drop, xlate = action
 * (1 allow, 2 deny), slot = direction (1 ingress, 2 egress), count = match type (Cilium's
 * numbers), pad = the peer's security identity as the datapath resolved it.
 */
struct trace_ev {
	__u64 ts_ns;
	__u32 ifindex; /* lxc the program ran on */
	__u32 target_ifindex; /* redirect target, 0 when none */
	__u32 src_ep;
	__u32 dst_ep;
	__u8 obs;
	__u8 proto;
	__u8 tcp_flags; /* TCP flags byte; ICMP type for ICMP */
	__u8 xlate;
	__u8 state;
	__u8 slot;
	__u8 count;
	__u8 version; /* record layout version: 1 */
	__u32 orig_saddr;
	__u32 orig_daddr;
	__u16 orig_sport;
	__u16 orig_dport;
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u32 len;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ct_key);
	__type(value, struct ct_val);
} ct4 SEC(".maps");

/* The endpoint's own tail calls (one map per load: the loader replaces it). */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, CILIUM_CALL_SIZE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} cilium_calls SEC(".maps");

/* The node's delivery programs: slot <endpoint id> holds that endpoint's cil_lxc_policy. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, POLICY_PROG_MAP_SIZE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} cilium_call_policy SEC(".maps");

/* The trace record a tail_handle_ipv4 prepared for the delivery program. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct trace_ev);
} lab_pending_ev SEC(".maps");

#ifdef ENABLE_POLICY
/* ---- Network policy: maps ---------------------------------------------------------------- */

/* Reserved identities (Cilium's numbers). */
#define ID_WORLD 2

#define POLICY_INGRESS 1
#define POLICY_EGRESS 2

#define MATCH_NONE 0
#define MATCH_L3_ONLY 1
#define MATCH_L3_L4 2
#define MATCH_L4_ONLY 3
#define MATCH_ALL 4

#define ACTION_ALLOW 1
#define ACTION_DENY 2

/* proto of the key that marks a direction no policy selects (everything allowed, no verdicts). */
#define POLICY_PROTO_NOT_ENFORCED 0xff

struct ipcache_val {
	__u32 sec_identity;
	__u32 pad;
};

/* Address (network order) -> security identity, every pod of the cluster and every node. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct ipcache_val);
} cilium_ipcache SEC(".maps");

/* Key of an endpoint's policy map; 0 in identity/dport/proto is a wildcard. */
struct policy_key {
	__u32 sec_identity; /* the peer's identity */
	__u16 dport; /* network order */
	__u8 proto;
	__u8 dir; /* POLICY_INGRESS or POLICY_EGRESS */
};

struct policy_val {
	__u64 packets;
};

/* The endpoint's own policy map (one per load, pinned as cilium_policy_<endpoint id>). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct policy_key);
	__type(value, struct policy_val);
} cilium_policy SEC(".maps");

/* A connection policy allowed, per direction, as the packet that opened it saw it. */
struct policy_ct_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 dir;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct policy_ct_key);
	__type(value, __u64);
} lab_policy_ct SEC(".maps");
#endif /* ENABLE_POLICY */

/* Decrement TTL (the TTL/protocol 16-bit word) with the L3 checksum fix. */
static __always_inline int dec_ttl(struct __sk_buff *skb, const struct pkt *p)
{
	__u8 word[2];
	__u16 old, new;

	if (p->ttl <= 1)
		return -1;
	if (bpf_skb_load_bytes(skb, IP_TTL_OFF, word, 2) < 0)
		return -1;
	__builtin_memcpy(&old, word, 2);
	word[0] = word[0] - 1;
	__builtin_memcpy(&new, word, 2);
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old, new, 2) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, IP_TTL_OFF, word, 1, 0);
}

/* L2 rewrite for delivery to a local pod before the redirect to its lxc (enters its tc egress). */
static __always_inline int redirect_to(struct __sk_buff *skb, const struct pkt *p, const struct endpoint_val *ep)
{
	if (dec_ttl(skb, p) < 0)
		return -1;
	if (bpf_skb_store_bytes(skb, 0, ep->pod_mac, 6, 0) < 0)
		return -1;
	if (bpf_skb_store_bytes(skb, 6, ep->lxc_mac, 6, 0) < 0)
		return -1;
	skb->mark = LAB_MARK_REDIRECTED;
	return 0;
}

static __always_inline void trace(struct __sk_buff *skb, __u32 flags, struct trace_ev *ev)
{
	if (!(flags & LAB_F_TRACE))
		return;
	ev->ts_ns = bpf_ktime_get_ns();
	ev->version = 1;
	bpf_perf_event_output(skb, &events, BPF_F_CURRENT_CPU, ev, sizeof(*ev));
}

static __always_inline void ev_init(struct trace_ev *ev, struct __sk_buff *skb, const struct pkt *p)
{
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->ifindex = skb->ifindex;
	ev->proto = p->proto;
	ev->tcp_flags = p->tcp_flags;
	ev->orig_saddr = p->saddr;
	ev->orig_daddr = p->daddr;
	ev->orig_sport = p->sport;
	ev->orig_dport = p->dport;
	ev->saddr = p->saddr;
	ev->daddr = p->daddr;
	ev->sport = p->sport;
	ev->dport = p->dport;
	ev->len = p->len;
}

/*
 * Reverse NAT of a reply backend -> client: a CT reverse entry turns its source back into
 * ClusterIP:port. 1 rewritten, 0 no entry (not a translated flow), -1 rewrite failed.
 * Used for same-node replies (tail_ipv4_policy) and replies through the stack (tail_ipv4_to_endpoint).
 */
static __always_inline int rev_nat(struct __sk_buff *skb, const struct pkt *p, struct trace_ev *ev)
{
	struct ct_key ck = {};
	struct ct_val *ct;
	__u32 vip;
	__u16 vport;

	SET_TUPLE(ck, p->saddr, p->daddr, p->sport, p->dport, p->proto, 1);
	ct = bpf_map_lookup_elem(&ct4, &ck);
	if (!ct)
		return 0;
	vip = ct->addr;
	vport = ct->port;
	__sync_fetch_and_add(&ct->packets, 1);
	ev->slot = ct->slot;
	ev->count = ct->count;
	ev->state = STATE_REPLY;
	if (rewrite_addr(skb, p, IP_SRC_OFF, p->saddr, vip) < 0 || rewrite_port(skb, p, 0, p->sport, vport) < 0)
		return -1;
	ev->xlate = XLATE_REVNAT;
	ev->saddr = vip;
	ev->sport = vport;
	return 1;
}

static __always_inline __u8 untracked_state(const struct pkt *p)
{
	if (p->proto != IPPROTO_TCP)
		return STATE_UNTRACKED;
	/* SYN without ACK opens a connection; everything else continues one. */
	if ((p->tcp_flags & 0x12) == 0x02)
		return STATE_NEW;
	return STATE_ESTABLISHED;
}

/* Ethernet + IPv4: the hooks pass anything else untouched. */
static __always_inline int is_ipv4(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	return (void *)(eth + 1) <= data_end && eth->h_proto == bpf_htons(ETH_P_IP);
}

/*
 * Hand the packet to the delivery program of a same-node endpoint (its slot in
 * cilium_call_policy) with the record prepared so far. Returns only when that slot is empty:
 * the node runs without local redirect, and the caller hands the packet to the stack.
 */
static __always_inline void deliver_local(struct __sk_buff *skb, const struct trace_ev *ev, __u32 ep_id)
{
	__u32 zero = 0;
	struct trace_ev *pending = bpf_map_lookup_elem(&lab_pending_ev, &zero);

	if (!pending)
		return;
	__builtin_memcpy(pending, ev, sizeof(*ev));
	skb->cb[0] = LAB_CB_PENDING;
	bpf_tail_call(skb, &cilium_call_policy, ep_id);
	skb->cb[0] = 0;
}

/* The tuple a policy decision is made on (after service translation, before reverse NAT). */
struct pol_tuple {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 tcp_flags;
};

#ifdef ENABLE_POLICY
/* ---- Network policy: decisions ----------------------------------------------------------- */

static __always_inline __u32 identity_of(__u32 addr)
{
	struct ipcache_val *v = bpf_map_lookup_elem(&cilium_ipcache, &addr);

	return v ? v->sec_identity : ID_WORLD;
}

static __always_inline struct policy_val *policy_entry(__u32 id, __u16 dport, __u8 proto, __u8 dir)
{
	struct policy_key k = {};

	k.sec_identity = id;
	k.dport = dport;
	k.proto = proto;
	k.dir = dir;
	return bpf_map_lookup_elem(&cilium_policy, &k);
}

/* Most specific entry first, as Cilium: L3+L4, L4 only, L3 only, everything. */
static __always_inline __u8 policy_match(__u32 id, const struct pol_tuple *t, __u8 dir)
{
	struct policy_val *v;
	__u8 match = MATCH_NONE;

	if ((v = policy_entry(id, t->dport, t->proto, dir)))
		match = MATCH_L3_L4;
	else if ((v = policy_entry(0, t->dport, t->proto, dir)))
		match = MATCH_L4_ONLY;
	else if ((v = policy_entry(id, 0, 0, dir)))
		match = MATCH_L3_ONLY;
	else if ((v = policy_entry(0, 0, 0, dir)))
		match = MATCH_ALL;
	if (v)
		__sync_fetch_and_add(&v->packets, 1);
	return match;
}

static __always_inline void policy_event(struct __sk_buff *skb, __u32 flags, const struct pol_tuple *t, __u8 obs,
					 __u8 dir, __u8 action, __u8 match, __u32 peer, __u32 local_ep, __u32 line)
{
	struct trace_ev ev;

	__builtin_memset(&ev, 0, sizeof(ev));
	ev.ifindex = skb->ifindex;
	ev.obs = obs;
	ev.proto = t->proto;
	ev.tcp_flags = t->tcp_flags;
	ev.xlate = action;
	ev.slot = dir;
	ev.count = match;
	ev.pad = peer;
	ev.target_ifindex = line;
	if (dir == POLICY_EGRESS)
		ev.src_ep = local_ep;
	else
		ev.dst_ep = local_ep;
	ev.orig_saddr = ev.saddr = t->saddr;
	ev.orig_daddr = ev.daddr = t->daddr;
	ev.orig_sport = ev.sport = t->sport;
	ev.orig_dport = ev.dport = t->dport;
	ev.len = skb->len;
	trace(skb, flags, &ev);
}

/*
 * The policy of the endpoint this program belongs to, for a packet leaving it (POLICY_EGRESS)
 * or delivered to it (POLICY_INGRESS). 0: pass; -1: denied (drop record emitted, drop it).
 */
static __always_inline int policy_check(struct __sk_buff *skb, __u32 flags, const struct pol_tuple *t, __u8 dir,
					__u32 local_ep, __u32 line)
{
	struct policy_ct_key ck = {};
	__u64 one = 1, *seen;
	__u32 peer;
	__u8 match;
	int syn = t->proto == IPPROTO_TCP && (t->tcp_flags & 0x12) == 0x02;

	if (!(flags & LAB_F_POLICY))
		return 0;
	/* A reply of a connection opened in the other direction. */
	SET_TUPLE(ck, t->daddr, t->saddr, t->dport, t->sport, t->proto, dir == POLICY_EGRESS ? POLICY_INGRESS : POLICY_EGRESS);
	if (!syn && bpf_map_lookup_elem(&lab_policy_ct, &ck))
		return 0;
	/* A later packet of a connection this direction allowed (a SYN is decided again). */
	ck.saddr = t->saddr;
	ck.daddr = t->daddr;
	ck.sport = t->sport;
	ck.dport = t->dport;
	ck.dir = dir;
	seen = bpf_map_lookup_elem(&lab_policy_ct, &ck);
	if (seen && !syn) {
		__sync_fetch_and_add(seen, 1);
		return 0;
	}
	peer = identity_of(dir == POLICY_EGRESS ? t->daddr : t->saddr);
	if (policy_entry(0, 0, POLICY_PROTO_NOT_ENFORCED, dir)) {
		bpf_map_update_elem(&lab_policy_ct, &ck, &one, BPF_ANY);
		return 0;
	}
	match = policy_match(peer, t, dir);
	policy_event(skb, flags, t, OBS_POLICY_VERDICT, dir, match ? ACTION_ALLOW : ACTION_DENY, match, peer, local_ep, 0);
	if (match) {
		bpf_map_update_elem(&lab_policy_ct, &ck, &one, BPF_ANY);
		return 0;
	}
	policy_event(skb, flags, t, OBS_DROP, dir, ACTION_DENY, MATCH_NONE, peer, local_ep, line);
	return -1;
}
#else
static __always_inline int policy_check(struct __sk_buff *skb, __u32 flags, const struct pol_tuple *t, __u8 dir,
					__u32 local_ep, __u32 line)
{
	return 0;
}
#endif /* ENABLE_POLICY */

static __always_inline void pol_tuple_of(struct pol_tuple *t, const struct pkt *p)
{
	t->saddr = p->saddr;
	t->daddr = p->daddr;
	t->sport = p->sport;
	t->dport = p->dport;
	t->proto = p->proto;
	t->tcp_flags = p->tcp_flags;
}

/* The endpoint's egress policy on the packet as it leaves (after service translation). */
static __always_inline int egress_denied(struct __sk_buff *skb, __u32 flags, const struct trace_ev *ev, __u32 line)
{
	struct pol_tuple t = {};

	t.saddr = ev->saddr;
	t.daddr = ev->daddr;
	t.sport = ev->sport;
	t.dport = ev->dport;
	t.proto = ev->proto;
	t.tcp_flags = ev->tcp_flags;
	return policy_check(skb, flags, &t, 2 /* egress */, ev->src_ep, line) < 0;
}

#ifdef LAB_TUNNEL
/* ---------------------------------------------------------------------------------------------
 * Tunnel mode: VXLAN between node IPs through an external (collect_md) device. Nothing here is
 * compiled in native routing, so the seed's object carries none of it.
 */
#define VXLAN_TTL 64

/* cilium_tunnel_map: another node's pod CIDR -> that node's IP (the tunnel endpoint). */
struct tunnel_key {
	__u32 prefixlen;
	__u32 ip; /* network order */
};

struct tunnel_val {
	__u32 node_ip; /* network order */
};

/* The node's overlay devices, written by the loader once they exist. */
struct lab_overlay_cfg {
	__u32 vxlan_ifindex;
	__u32 host_ifindex; /* cilium_host */
	__u8 host_mac[6];
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 512);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tunnel_key);
	__type(value, struct tunnel_val);
} cilium_tunnel_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lab_overlay_cfg);
} lab_overlay SEC(".maps");

static __always_inline struct lab_overlay_cfg *overlay_cfg(void)
{
	__u32 zero = 0;
	struct lab_overlay_cfg *c = bpf_map_lookup_elem(&lab_overlay, &zero);

	return c && c->vxlan_ifindex ? c : NULL;
}

/*
 * A packet for another node's pod CIDR: set the tunnel key towards that node's IP and mark the
 * record for the redirect to cilium_vxlan. 1 encapsulate (ev->target_ifindex is the device),
 * 0 not a remote pod CIDR (the stack routes it), -1 the helper failed.
 */
static __always_inline int tunnel_encap(struct __sk_buff *skb, struct trace_ev *ev)
{
	struct tunnel_key k = { .prefixlen = 32, .ip = ev->daddr };
	struct bpf_tunnel_key key = {};
	struct lab_overlay_cfg *cfg;
	struct tunnel_val *peer;

	peer = bpf_map_lookup_elem(&cilium_tunnel_map, &k);
	if (!peer)
		return 0;
	cfg = overlay_cfg();
	if (!cfg)
		return 0;
	key.remote_ipv4 = bpf_ntohl(peer->node_ip);
	key.tunnel_id = ev->src_ep;
	key.tunnel_ttl = VXLAN_TTL;
	if (bpf_skb_set_tunnel_key(skb, &key, sizeof(key), BPF_F_ZERO_CSUM_TX) < 0)
		return -1;
	ev->obs = OBS_TO_OVERLAY;
	ev->target_ifindex = cfg->vxlan_ifindex;
	return 1;
}

/* cilium_host egress: the host's packets for another node's pods take the tunnel too. */
SEC("tc")
int cil_from_host(struct __sk_buff *skb)
{
	struct pkt p = {};
	struct trace_ev ev;
	int rc;

	if (parse(skb, &p) < 0)
		return TC_ACT_OK;
	ev_init(&ev, skb, &p);
	ev.state = untracked_state(&p);
	rc = tunnel_encap(skb, &ev);
	if (rc < 0)
		return TC_ACT_SHOT;
	if (rc == 0)
		return TC_ACT_OK;
	trace(skb, cfg_flags(), &ev);
	return bpf_redirect(ev.target_ifindex, 0);
}

/*
 * cilium_vxlan ingress, after the kernel removed the outer headers: a packet for a local
 * endpoint is redirected to its lxc (whose cil_to_container reverse-NATs replies and traces the
 * delivery); anything else (the host's own connections) enters the host through cilium_host.
 */
SEC("tc")
int cil_from_overlay(struct __sk_buff *skb)
{
	struct lab_overlay_cfg *cfg;
	struct endpoint_val *ep;
	struct pkt p = {};

	if (parse(skb, &p) < 0)
		return TC_ACT_OK;
	ep = bpf_map_lookup_elem(&lxc_endpoints, &p.daddr);
	if (ep) {
		if (dec_ttl(skb, &p) < 0 || bpf_skb_store_bytes(skb, 0, ep->pod_mac, 6, 0) < 0 ||
		    bpf_skb_store_bytes(skb, 6, ep->lxc_mac, 6, 0) < 0)
			return TC_ACT_SHOT;
		return bpf_redirect(ep->ifindex, 0);
	}
	cfg = overlay_cfg();
	if (!cfg || bpf_skb_store_bytes(skb, 0, cfg->host_mac, 6, 0) < 0)
		return TC_ACT_SHOT;
	return bpf_redirect(cfg->host_ifindex, BPF_F_INGRESS);
}
#endif /* LAB_TUNNEL */

SEC("tc")
int cil_from_container(struct __sk_buff *skb)
{
	if (!is_ipv4(skb))
		return TC_ACT_OK;
	bpf_tail_call(skb, &cilium_calls, CILIUM_CALL_IPV4_FROM_LXC);
	/* Missed tail call (the endpoint's programs are not in place): drop, as Cilium does. */
	return TC_ACT_SHOT;
}

/* cilium_calls[CILIUM_CALL_IPV4_FROM_LXC]: a packet leaving the endpoint. */
SEC("tc")
int tail_handle_ipv4(struct __sk_buff *skb)
{
	struct pkt p = {};
	struct trace_ev ev;
	struct endpoint_val *src_ep, *dst_ep;
	struct svc_key sk = {};
	struct svc_val *svc;
	struct ct_key ck = {};
	struct ct_val *ct;
	__u32 flags;

	if (parse(skb, &p) < 0)
		return TC_ACT_OK;
	flags = cfg_flags();
	ev_init(&ev, skb, &p);
	ev.obs = OBS_TO_STACK;
	ev.state = untracked_state(&p);
	src_ep = bpf_map_lookup_elem(&lxc_endpoints, &p.saddr);
	if (src_ep)
		ev.src_ep = src_ep->ep_id;

	if (!p.has_ports) {
		if (egress_denied(skb, flags, &ev, __LINE__))
			return TC_ACT_SHOT;
		goto out;
	}

	/* A SYN opens a new connection. ct4 entries never expire, so an earlier connection on the
	 * same ports must not lend it its translation: its reverse NAT would rewrite the replies of
	 * a direct pod -> backend connection to the ClusterIP (the client drops them, a timeout). */
	if (ev.state == STATE_NEW) {
		struct ct_key stale = {};

		SET_TUPLE(stale, p.daddr, p.saddr, p.dport, p.sport, p.proto, 1);
		bpf_map_delete_elem(&ct4, &stale);
	}

	/* 1. Service translation: ClusterIP:port -> backend, chosen once per connection. */
	sk.vip = p.daddr;
	sk.port = p.dport;
	sk.proto = p.proto;
	sk.slot = 0;
	svc = bpf_map_lookup_elem(&lb4_services, &sk);
	if (svc && svc->count > 0) {
		struct ct_val fwd = {};
		__u32 backend_ip;
		__u16 backend_port;

		SET_TUPLE(ck, p.saddr, p.daddr, p.sport, p.dport, p.proto, 0);
		ct = bpf_map_lookup_elem(&ct4, &ck);
		if (ct) {
			struct svc_key bk = sk;
			struct svc_val *b;

			/* The connection's backend must still be in the service. */
			bk.slot = ct->slot;
			b = bpf_map_lookup_elem(&lb4_services, &bk);
			if (!b || b->backend_ip != ct->addr || b->backend_port != ct->port)
				ct = NULL;
		}
		if (ct) {
			__sync_fetch_and_add(&ct->packets, 1);
			backend_ip = ct->addr;
			backend_port = ct->port;
			ev.slot = ct->slot;
			if (ev.state == STATE_NEW) {
				/* A new connection on an earlier one's ports: its reverse NAT may be gone. */
				struct ct_key rk = {};
				struct ct_val rev = {};

				SET_TUPLE(rk, backend_ip, p.saddr, backend_port, p.sport, p.proto, 1);
				rev.addr = p.daddr;
				rev.port = p.dport;
				rev.slot = ct->slot;
				rev.count = ct->count;
				bpf_map_update_elem(&ct4, &rk, &rev, BPF_ANY);
			}
			ev.state = STATE_ESTABLISHED;
		} else {
			struct svc_key bk = sk;
			struct svc_val *b;
			struct ct_key rk = {};
			struct ct_val rev = {};
			__u16 count = svc->count;

			if (count > 255)
				count = 255;
			bk.slot = (bpf_get_prandom_u32() % count) + 1;
			b = bpf_map_lookup_elem(&lb4_services, &bk);
			if (!b)
				goto out;
			backend_ip = b->backend_ip;
			backend_port = b->backend_port;
			fwd.addr = backend_ip;
			fwd.port = backend_port;
			fwd.slot = bk.slot;
			fwd.count = count;
			fwd.packets = 1;
			bpf_map_update_elem(&ct4, &ck, &fwd, BPF_ANY);
			SET_TUPLE(rk, backend_ip, p.saddr, backend_port, p.sport, p.proto, 1);
			rev.addr = p.daddr;
			rev.port = p.dport;
			rev.slot = bk.slot;
			rev.count = count;
			bpf_map_update_elem(&ct4, &rk, &rev, BPF_ANY);
			ev.slot = bk.slot;
			ev.state = STATE_NEW;
		}
		ev.count = svc->count > 255 ? 255 : svc->count;
		if (rewrite_addr(skb, &p, IP_DST_OFF, p.daddr, backend_ip) < 0 ||
		    rewrite_port(skb, &p, 2, p.dport, backend_port) < 0)
			return TC_ACT_SHOT;
		ev.xlate = XLATE_DNAT;
		ev.daddr = backend_ip;
		ev.dport = backend_port;
		if (egress_denied(skb, flags, &ev, __LINE__))
			return TC_ACT_SHOT;

		dst_ep = bpf_map_lookup_elem(&lxc_endpoints, &backend_ip);
		if (dst_ep) {
			ev.dst_ep = dst_ep->ep_id;
			deliver_local(skb, &ev, dst_ep->ep_id);
		}
		goto out;
	}

	/* 2. A packet for a same-node endpoint: its delivery program reverse-NATs a reply of a
	 * translated connection and redirects it. Without a delivery program (no local redirect)
	 * the reply goes through the stack untouched and tail_ipv4_to_endpoint of the client's
	 * lxc reverse-NATs it (so the kernel's conntrack sees a consistent flow). */
	if (egress_denied(skb, flags, &ev, __LINE__))
		return TC_ACT_SHOT;
	dst_ep = bpf_map_lookup_elem(&lxc_endpoints, &p.daddr);
	if (!dst_ep)
		goto out;
	ev.dst_ep = dst_ep->ep_id;
	deliver_local(skb, &ev, dst_ep->ep_id);
	ev.dst_ep = 0;
out:
#ifdef LAB_TUNNEL
	if (!ev.dst_ep) {
		int rc = tunnel_encap(skb, &ev);

		if (rc < 0)
			return TC_ACT_SHOT;
		if (rc > 0) {
			trace(skb, flags, &ev);
			return bpf_redirect(ev.target_ifindex, 0);
		}
	}
#endif
	trace(skb, flags, &ev);
	return TC_ACT_OK;
}

/* The endpoint's slot in the node's cilium_call_policy: delivery to this endpoint. */
SEC("tc")
int cil_lxc_policy(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &cilium_calls, CILIUM_CALL_IPV4_TO_LXC_POLICY_ONLY);
	return TC_ACT_SHOT;
}

/* cilium_calls[CILIUM_CALL_IPV4_TO_LXC_POLICY_ONLY]: deliver to this same-node endpoint. */
SEC("tc")
int tail_ipv4_policy(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct trace_ev *pending;
	struct trace_ev ev;
	struct pkt p = {};
	struct endpoint_val *ep;
	struct pol_tuple t = {};
	__u32 flags;
	int rc;

	if (skb->cb[0] != LAB_CB_PENDING)
		return TC_ACT_OK;
	skb->cb[0] = 0;
	pending = bpf_map_lookup_elem(&lab_pending_ev, &zero);
	if (!pending || parse(skb, &p) < 0)
		return TC_ACT_OK;
	__builtin_memcpy(&ev, pending, sizeof(ev));
	flags = cfg_flags();
	ep = bpf_map_lookup_elem(&lxc_endpoints, &p.daddr);
	if (!ep)
		goto out;
	pol_tuple_of(&t, &p);
	if (ev.xlate != XLATE_DNAT) {
		/* A reply of a translated connection: back to ClusterIP:port. Anything else between
		 * two endpoints of the node goes through the stack, as it always did in the lab. */
		rc = rev_nat(skb, &p, &ev);
		if (rc < 0)
			return TC_ACT_SHOT;
		if (rc == 0)
			goto out;
		p.saddr = ev.saddr;
		p.sport = ev.sport;
	}
	/* Delivered here without the stack: this endpoint's ingress policy decides now. */
	if (policy_check(skb, flags, &t, 1 /* ingress */, ep->ep_id, __LINE__) < 0)
		return TC_ACT_SHOT;
	if (redirect_to(skb, &p, ep) < 0)
		return TC_ACT_SHOT;
	ev.obs = OBS_TO_ENDPOINT_REDIRECT;
	ev.target_ifindex = ep->ifindex;
	trace(skb, flags, &ev);
	return bpf_redirect(ep->ifindex, 0);
out:
	trace(skb, flags, &ev);
	return TC_ACT_OK;
}

SEC("tc")
int cil_to_container(struct __sk_buff *skb)
{
	if (skb->mark == LAB_MARK_REDIRECTED) {
		/* Redirected by tail_ipv4_policy, already translated and traced. */
		skb->mark = 0;
		return TC_ACT_OK;
	}
	if (!is_ipv4(skb))
		return TC_ACT_OK;
	bpf_tail_call(skb, &cilium_calls, CILIUM_CALL_IPV4_TO_ENDPOINT);
	return TC_ACT_SHOT;
}

/* cilium_calls[CILIUM_CALL_IPV4_TO_ENDPOINT]: a packet entering the endpoint from the stack. */
SEC("tc")
int tail_ipv4_to_endpoint(struct __sk_buff *skb)
{
	struct pkt p = {};
	struct trace_ev ev;
	struct endpoint_val *ep;
	__u32 flags;

	if (parse(skb, &p) < 0)
		return TC_ACT_OK;
	flags = cfg_flags();
	ev_init(&ev, skb, &p);
	ev.obs = OBS_TO_ENDPOINT;
	ev.state = untracked_state(&p);
	ep = bpf_map_lookup_elem(&lxc_endpoints, &p.daddr);
	if (ep)
		ev.dst_ep = ep->ep_id;
	ep = bpf_map_lookup_elem(&lxc_endpoints, &p.saddr);
	if (ep)
		ev.src_ep = ep->ep_id;
	if (ev.dst_ep) {
		struct pol_tuple t = {};

		/* Delivered through the stack: this endpoint's ingress policy, before reverse NAT. */
		pol_tuple_of(&t, &p);
		if (policy_check(skb, flags, &t, 1 /* ingress */, ev.dst_ep, __LINE__) < 0)
			return TC_ACT_SHOT;
	}
	if (!p.has_ports)
		goto out;

	/* Reply that came through the stack: reverse NAT backend -> ClusterIP:port. */
	if (rev_nat(skb, &p, &ev) < 0)
		return TC_ACT_SHOT;
out:
	trace(skb, flags, &ev);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
