/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * The XDP program of the AF_XDP port in native mode (kernel 6.8+): every
 * frame of a receive queue goes to the XDP socket of that queue, with the
 * 802.1Q/802.1ad tag put back in the frame when the kernel holds it out of
 * band (rx VLAN offload on a NIC; skb->vlan_tci on veth).  Without this the
 * tag is lost and a tagged frame looks untagged to the switch: VLAN
 * isolation depends on it.
 *
 * Loaded device-bound (BPF_F_XDP_DEV_BOUND_ONLY, prog_ifindex) so that the
 * metadata kfunc resolves to the driver's implementation.  Built with clang
 * -target bpf and embedded in the binary (meson.build); the license string
 * is GPL-compatible because kfuncs are only callable from such programs.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 1024); /* queue N < 1024, as the port's parser says */
	__type(key, __u32);
	__type(value, __u32);
} vmdq_xsks SEC(".maps");

extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto,
					__u16 *vlan_tci) __ksym;

SEC("xdp")
int vmdq_xsk_vlan(struct xdp_md *ctx)
{
	__be16 proto;
	__u16 tci;
	/* 0: a tag was held out of band; -ENODATA, -EINVAL: none */
	if (bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci) == 0) {
		/* 4 bytes of headroom for the tag; a frame that cannot carry it
		 * back is dropped, never delivered untagged */
		if (bpf_xdp_adjust_head(ctx, -4))
			return XDP_DROP;
		__u8 *d = (void *)(long)ctx->data;
		if ((void *)(d + 16) > (void *)(long)ctx->data_end)
			return XDP_DROP;
		for (int i = 0; i < 12; i++) /* the MACs, 4 bytes to the front */
			d[i] = d[i + 4];
		*(__be16 *)(d + 12) = proto;
		*(__be16 *)(d + 14) = bpf_htons(tci);
	}
	return bpf_redirect_map(&vmdq_xsks, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
