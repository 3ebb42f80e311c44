// SPDX-License-Identifier: GPL-2.0
/*
 * Hookpoint lab: kube-proxy replacement (kubeProxyReplacement=true), written for the lab's
 * kernel reproduction; not Cilium code. Two parts, each in its own programs:
 *
 * Socket-level load balancing (cgroup sock_addr hooks, attached to the lab's per-node cgroups
 * only, never to the machine's root cgroup):
 *   cil_sock4_connect      connect(): ClusterIP:port or NodeIP:nodePort -> a backend, before
 *                          the first packet exists (so every capture sees the backend)
 *   cil_sock4_sendmsg      sendmsg() of an unconnected UDP socket: the same
 *   cil_sock4_recvmsg      recvmsg(): the backend's address back to the service's
 *   cil_sock4_getpeername  getpeername(): the same
 *   A translation is remembered per socket cookie in lb4_reverse_sk; each hook emits a pair of
 *   socket trace records (pre/post translation) into the node's `events` perf array.
 *
 * NodePort from outside the cluster, at the node's eth0 (LAB_KPR_NETDEV):
 *   cil_from_netdev        tc ingress: NodeIP:nodePort -> backend. A backend on this node is
 *                          handed to the stack; a remote one is also source-NATed to this node
 *                          and sent out again (bpf_fib_lookup + bpf_redirect); the remote
 *                          backend's reply is translated back here and sent to the client.
 *   cil_to_netdev          tc egress: a local backend's reply back to NodeIP:nodePort.
 *
 * Shared with lab_lb.c through lab_common.h (same layouts, reused from the node's pins):
 * lab_config, lb4_services, lxc_endpoints, events; the packet parse and rewrites. Own maps:
 * lb4_reverse_sk, nodeport_ct.
 */
#include "lab_common.h"

#ifndef AF_INET
#define AF_INET 2
#endif

/* Socket trace record points (Cilium's xlate points, printed by the agent stand-in). */
#define XLATE_PRE_FWD 0
#define XLATE_POST_FWD 1
#define XLATE_PRE_REV 2
#define XLATE_POST_REV 3

/* Record layout version of a socket trace (lab_lb.c's packet traces are version 1). */
#define SOCK_TRACE_VERSION 2

/* A socket's translation, found again by cookie and backend address. */
struct rev_sk_key {
	__u64 cookie;
	__u32 addr;
	__u16 port;
	__u16 pad;
};

struct rev_sk_val {
	__u32 vip;
	__u16 vport;
	__u16 pad;
};

/* 64 bytes, the size of lab_lb.c's trace_ev; byte 31 is the version in both. */
struct sock_ev {
	__u64 ts_ns;
	__u64 cgroup_id;
	__u64 cookie;
	__u8 point;
	__u8 proto;
	__u8 pad[5];
	__u8 version;
	__u32 daddr;
	__u16 dport;
	__u8 pad2[26];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct rev_sk_key);
	__type(value, struct rev_sk_val);
} lb4_reverse_sk SEC(".maps");

/* A random backend of a service (NULL: no such service or no backend). */
static __always_inline struct svc_val *pick_backend(__u32 vip, __u16 port, __u8 proto)
{
	struct svc_key sk = {};
	struct svc_val *svc;
	__u16 count;

	sk.vip = vip;
	sk.port = port;
	sk.proto = proto;
	svc = bpf_map_lookup_elem(&lb4_services, &sk);
	if (!svc || svc->count == 0)
		return NULL;
	count = svc->count > 255 ? 255 : svc->count;
	sk.slot = (bpf_get_prandom_u32() % count) + 1;
	return bpf_map_lookup_elem(&lb4_services, &sk);
}

static __always_inline void sock_trace(struct bpf_sock_addr *ctx, __u64 cookie, __u8 point, __u32 addr, __u16 port)
{
	struct sock_ev ev;

	if (!(cfg_flags() & LAB_F_TRACE))
		return;
	__builtin_memset(&ev, 0, sizeof(ev));
	ev.ts_ns = bpf_ktime_get_ns();
	ev.cgroup_id = bpf_get_current_cgroup_id();
	ev.cookie = cookie;
	ev.point = point;
	ev.proto = ctx->protocol;
	ev.version = SOCK_TRACE_VERSION;
	ev.daddr = addr;
	ev.dport = port;
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &ev, sizeof(ev));
}

/* connect/sendmsg: a service address becomes a backend address. */
static __always_inline int xlate_fwd(struct bpf_sock_addr *ctx)
{
	__u32 vip = ctx->user_ip4;
	__u16 vport = (__u16)ctx->user_port;
	__u8 proto = ctx->protocol;
	struct svc_val *b;
	struct rev_sk_key rk = {};
	struct rev_sk_val rv = {};
	__u64 cookie;

	if (ctx->user_family != AF_INET || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return 1;
	b = pick_backend(vip, vport, proto);
	if (!b)
		return 1;
	cookie = bpf_get_socket_cookie(ctx);
	sock_trace(ctx, cookie, XLATE_PRE_FWD, vip, vport);
	rk.cookie = cookie;
	rk.addr = b->backend_ip;
	rk.port = b->backend_port;
	rv.vip = vip;
	rv.vport = vport;
	bpf_map_update_elem(&lb4_reverse_sk, &rk, &rv, BPF_ANY);
	ctx->user_ip4 = b->backend_ip;
	ctx->user_port = (__u32)b->backend_port;
	sock_trace(ctx, cookie, XLATE_POST_FWD, b->backend_ip, b->backend_port);
	return 1;
}

/* recvmsg/getpeername: the backend's address back to the service's, for a translated socket. */
static __always_inline int xlate_rev(struct bpf_sock_addr *ctx)
{
	struct rev_sk_key rk = {};
	struct rev_sk_val *rv;
	__u32 addr = ctx->user_ip4;
	__u16 port = (__u16)ctx->user_port;

	if (ctx->user_family != AF_INET)
		return 1;
	rk.cookie = bpf_get_socket_cookie(ctx);
	rk.addr = addr;
	rk.port = port;
	rv = bpf_map_lookup_elem(&lb4_reverse_sk, &rk);
	if (!rv)
		return 1;
	sock_trace(ctx, rk.cookie, XLATE_PRE_REV, addr, port);
	ctx->user_ip4 = rv->vip;
	ctx->user_port = (__u32)rv->vport;
	sock_trace(ctx, rk.cookie, XLATE_POST_REV, rv->vip, rv->vport);
	return 1;
}

SEC("cgroup/connect4")
int cil_sock4_connect(struct bpf_sock_addr *ctx)
{
	return xlate_fwd(ctx);
}

SEC("cgroup/sendmsg4")
int cil_sock4_sendmsg(struct bpf_sock_addr *ctx)
{
	return xlate_fwd(ctx);
}

SEC("cgroup/recvmsg4")
int cil_sock4_recvmsg(struct bpf_sock_addr *ctx)
{
	return xlate_rev(ctx);
}

SEC("cgroup/getpeername4")
int cil_sock4_getpeername(struct bpf_sock_addr *ctx)
{
	return xlate_rev(ctx);
}

#ifdef LAB_KPR_NETDEV
/* ---------------------------------------------------------------------------------------
 * NodePort at the node's eth0.
 */
/* nodeport_ct: forward entries (dir 0) keyed as the client's packet arrives; reverse entries
 * (dir 1) keyed as the backend's reply is seen (at egress for a local backend, at ingress for
 * a remote one). */
struct np_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 dir;
	__u16 pad;
};

struct np_val {
	__u32 backend_ip; /* forward */
	__u16 backend_port;
	__u8 remote; /* backend on another node: source-NATed to this node */
	__u8 pad;
	__u32 node_ip; /* reverse: the NodePort's address */
	__u16 node_port;
	__u16 client_port;
	__u32 client_ip;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct np_key);
	__type(value, struct np_val);
} nodeport_ct SEC(".maps");

/* A TCP SYN without ACK: a new connection, which picks its backend again. */
static __always_inline int is_syn(const struct pkt *p)
{
	return p->proto == IPPROTO_TCP && (p->tcp_flags & 0x12) == 0x02;
}

/* Send a rewritten packet out of the interface the FIB chooses, with its next hop's MACs. */
static __always_inline int np_forward(struct __sk_buff *skb, __u32 saddr, __u32 daddr)
{
	struct bpf_fib_lookup fib = {};
	int rc;

	fib.family = AF_INET;
	fib.ipv4_src = saddr;
	fib.ipv4_dst = daddr;
	fib.ifindex = skb->ifindex;
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), BPF_FIB_LOOKUP_OUTPUT);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return TC_ACT_SHOT;
	if (bpf_skb_store_bytes(skb, 0, fib.dmac, 6, 0) < 0 || bpf_skb_store_bytes(skb, 6, fib.smac, 6, 0) < 0)
		return TC_ACT_SHOT;
	return bpf_redirect(fib.ifindex, 0);
}

SEC("tc")
int cil_from_netdev(struct __sk_buff *skb)
{
	struct pkt p = {};
	struct np_key k = {};
	struct np_val *ct, nv = {};
	struct svc_val *b;

	/* NodePort is TCP or UDP: anything without ports passes untouched. */
	if (parse(skb, &p) < 0 || !p.has_ports)
		return TC_ACT_OK;

	/* A remote backend's reply to a source-NATed NodePort connection. */
	SET_TUPLE(k, p.saddr, p.daddr, p.sport, p.dport, p.proto, 1);
	ct = bpf_map_lookup_elem(&nodeport_ct, &k);
	if (ct && ct->remote) {
		__u32 node_ip = ct->node_ip, client_ip = ct->client_ip;
		__u16 node_port = ct->node_port, client_port = ct->client_port;

		if (rewrite_addr(skb, &p, IP_SRC_OFF, p.saddr, node_ip) < 0 || rewrite_port(skb, &p, 0, p.sport, node_port) < 0 ||
		    rewrite_addr(skb, &p, IP_DST_OFF, p.daddr, client_ip) < 0 ||
		    rewrite_port(skb, &p, 2, p.dport, client_port) < 0)
			return TC_ACT_SHOT;
		return np_forward(skb, node_ip, client_ip);
	}

	/* A client's packet for NodeIP:nodePort. */
	k.dir = 0;
	ct = bpf_map_lookup_elem(&nodeport_ct, &k);
	if (!ct || is_syn(&p)) {
		struct svc_key sk = {};

		sk.vip = p.daddr;
		sk.port = p.dport;
		sk.proto = p.proto;
		if (!bpf_map_lookup_elem(&lb4_services, &sk))
			return TC_ACT_OK;
		b = pick_backend(p.daddr, p.dport, p.proto);
		if (!b)
			return TC_ACT_OK;
		nv.backend_ip = b->backend_ip;
		nv.backend_port = b->backend_port;
		nv.remote = bpf_map_lookup_elem(&lxc_endpoints, &b->backend_ip) ? 0 : 1;
		nv.node_ip = p.daddr;
		nv.node_port = p.dport;
		nv.client_ip = p.saddr;
		nv.client_port = p.sport;
		bpf_map_update_elem(&nodeport_ct, &k, &nv, BPF_ANY);
		/* The reply, keyed as it will be seen. */
		SET_TUPLE(k, nv.backend_ip, nv.remote ? p.daddr : p.saddr, nv.backend_port, p.sport, p.proto, 1);
		bpf_map_update_elem(&nodeport_ct, &k, &nv, BPF_ANY);
		ct = &nv;
	}
	{
		__u32 backend_ip = ct->backend_ip;
		__u16 backend_port = ct->backend_port;
		__u8 remote = ct->remote;

		if (rewrite_addr(skb, &p, IP_DST_OFF, p.daddr, backend_ip) < 0 ||
		    rewrite_port(skb, &p, 2, p.dport, backend_port) < 0)
			return TC_ACT_SHOT;
		if (!remote)
			return TC_ACT_OK;
		/* Remote backend: from this node, so the reply comes back here. */
		if (rewrite_addr(skb, &p, IP_SRC_OFF, p.saddr, p.daddr) < 0)
			return TC_ACT_SHOT;
		return np_forward(skb, p.daddr, backend_ip);
	}
}

SEC("tc")
int cil_to_netdev(struct __sk_buff *skb)
{
	struct pkt p = {};
	struct np_key k = {};
	struct np_val *ct;
	__u32 node_ip;
	__u16 node_port;

	/* NodePort is TCP or UDP: anything without ports passes untouched. */
	if (parse(skb, &p) < 0 || !p.has_ports)
		return TC_ACT_OK;
	SET_TUPLE(k, p.saddr, p.daddr, p.sport, p.dport, p.proto, 1);
	ct = bpf_map_lookup_elem(&nodeport_ct, &k);
	if (!ct || ct->remote)
		return TC_ACT_OK;
	node_ip = ct->node_ip;
	node_port = ct->node_port;
	if (rewrite_addr(skb, &p, IP_SRC_OFF, p.saddr, node_ip) < 0 || rewrite_port(skb, &p, 0, p.sport, node_port) < 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}
#endif /* LAB_KPR_NETDEV */

char _license[] SEC("license") = "GPL";
