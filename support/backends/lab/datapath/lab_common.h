/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hookpoint lab: what lab_lb.c and lab_kpr.c share, written for the lab's kernel reproduction;
 * not Cilium code. One definition of the maps both objects use (lab_kpr.c reuses lab_lb.c's
 * pins, so their layouts must be the same), of the packet parse and of the rewrites with their
 * checksum updates.
 */
#ifndef LAB_COMMON_H
#define LAB_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* lab_config flags: a trace record per packet (and per socket translation). */
#define LAB_F_TRACE 0x1

#define ETH_HLEN_ 14
#define IP_CSUM_OFF (ETH_HLEN_ + offsetof(struct iphdr, check))
#define IP_TTL_OFF (ETH_HLEN_ + offsetof(struct iphdr, ttl))
#define IP_SRC_OFF (ETH_HLEN_ + offsetof(struct iphdr, saddr))
#define IP_DST_OFF (ETH_HLEN_ + offsetof(struct iphdr, daddr))

struct lab_config {
	__u32 flags;
};

/* Service key: slot 0 holds the backend count, slots 1..n the backends. */
struct svc_key {
	__u32 vip; /* network order */
	__u16 port; /* network order */
	__u8 proto;
	__u8 slot;
};

struct svc_val {
	__u32 backend_ip; /* network order (slot >= 1) */
	__u16 backend_port; /* network order (slot >= 1) */
	__u16 count; /* host order, slot 0 only */
	__u32 svc_id; /* host order */
};

struct endpoint_val {
	__u32 ifindex; /* lxc ifindex in the node netns */
	__u32 ep_id;
	__u8 pod_mac[6];
	__u8 lxc_mac[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lab_config);
} lab_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct svc_key);
	__type(value, struct svc_val);
} lb4_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct endpoint_val);
} lxc_endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

/* A parsed Ethernet/IPv4 packet with its L4 ports (when it carries them). */
struct pkt {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 tcp_flags;
	__u8 has_ports;
	__u8 ttl;
	__u32 l4_off;
	__u32 l4_csum_off;
	__u32 len;
};

/*
 * Fill a connection key: the lab's tuple keys (ct_key, np_key, policy_ct_key) each carry saddr,
 * daddr, sport, dport, proto and dir, in their own map's type.
 */
#define SET_TUPLE(k, s, d, sp, dp, pr, di) \
	do { \
		(k).saddr = (s); \
		(k).daddr = (d); \
		(k).sport = (sp); \
		(k).dport = (dp); \
		(k).proto = (pr); \
		(k).dir = (di); \
	} while (0)

static __always_inline __u32 cfg_flags(void)
{
	__u32 zero = 0;
	struct lab_config *c = bpf_map_lookup_elem(&lab_config, &zero);

	return c ? c->flags : 0;
}

/* Parse Ethernet/IPv4 and the L4 ports. Returns 0 for IPv4, -1 otherwise. */
static __always_inline int parse(struct __sk_buff *skb, struct pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u32 ihl;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return -1;
	if (ip->version != 4)
		return -1;
	ihl = ip->ihl * 4;
	if (ihl < sizeof(*ip))
		return -1;
	p->saddr = ip->saddr;
	p->daddr = ip->daddr;
	p->proto = ip->protocol;
	p->ttl = ip->ttl;
	p->len = skb->len;
	p->sport = 0;
	p->dport = 0;
	p->tcp_flags = 0;
	p->has_ports = 0;
	p->l4_off = ETH_HLEN_ + ihl;
	p->l4_csum_off = 0;
	/* Only first fragments (or unfragmented packets) carry ports. */
	if (ip->frag_off & bpf_htons(0x1fff))
		return 0;
	if (p->proto == IPPROTO_TCP) {
		__u8 hdr[14];

		if (bpf_skb_load_bytes(skb, p->l4_off, hdr, sizeof(hdr)) < 0)
			return 0;
		__builtin_memcpy(&p->sport, &hdr[0], 2);
		__builtin_memcpy(&p->dport, &hdr[2], 2);
		p->tcp_flags = hdr[13];
		p->has_ports = 1;
		p->l4_csum_off = p->l4_off + offsetof(struct tcphdr, check);
	} else if (p->proto == IPPROTO_UDP) {
		__u8 hdr[4];

		if (bpf_skb_load_bytes(skb, p->l4_off, hdr, sizeof(hdr)) < 0)
			return 0;
		__builtin_memcpy(&p->sport, &hdr[0], 2);
		__builtin_memcpy(&p->dport, &hdr[2], 2);
		p->has_ports = 1;
		p->l4_csum_off = p->l4_off + offsetof(struct udphdr, check);
	} else if (p->proto == IPPROTO_ICMP) {
		__u8 type;

		/* The ICMP type travels in the tcp_flags slot of the trace record. */
		if (bpf_skb_load_bytes(skb, p->l4_off, &type, 1) == 0)
			p->tcp_flags = type;
	}
	return 0;
}

static __always_inline __u64 l4_flags(const struct pkt *p, __u64 size)
{
	return p->proto == IPPROTO_UDP ? (size | BPF_F_MARK_MANGLED_0) : size;
}

/* Rewrite an address (IP_SRC_OFF or IP_DST_OFF) with L3 and L4 checksum updates. */
static __always_inline int rewrite_addr(struct __sk_buff *skb, const struct pkt *p, __u32 off, __u32 old, __u32 new)
{
	if (old == new)
		return 0;
	if (p->l4_csum_off &&
	    bpf_l4_csum_replace(skb, p->l4_csum_off, old, new, l4_flags(p, BPF_F_PSEUDO_HDR | sizeof(new))) < 0)
		return -1;
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old, new, sizeof(new)) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, off, &new, sizeof(new), 0);
}

/* Rewrite a port (offset 0: source, 2: destination within the L4 header). */
static __always_inline int rewrite_port(struct __sk_buff *skb, const struct pkt *p, __u32 which, __u16 old, __u16 new)
{
	if (old == new)
		return 0;
	if (bpf_l4_csum_replace(skb, p->l4_csum_off, old, new, l4_flags(p, sizeof(new))) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, p->l4_off + which, &new, sizeof(new), 0);
}

#endif /* LAB_COMMON_H */
