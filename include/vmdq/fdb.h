/* SPDX-License-Identifier: MIT */
/*
 * vmdq/fdb.h - the switch's forwarding database: (MAC, VLAN) -> port.
 *
 * The key is exactly (MAC, VLAN), as in Linux net/bridge; VLAN 0 is the
 * untagged domain.  Entries are static (a vif's own MACs, added when the vif
 * is) or learned (source addresses seen on the uplink), which age out.
 *
 * Fixed capacity, open addressing with backward-shift deletion: no
 * allocation after creation, so learning on the data path never allocates.
 * Not thread-safe: one thread (the switch's worker) owns an FDB.
 */
#ifndef VMDQ_FDB_H
#define VMDQ_FDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmdq_fdb;

struct vmdq_fdb_entry {
	uint8_t mac[6];
	uint16_t vlan;
	int port;          /* the switch's port number */
	bool is_static;
	uint64_t last_ns;  /* learned: when last seen */
};

/* max_entries: how many entries it can hold (rounded up internally). */
struct vmdq_fdb *vmdq_fdb_create(size_t max_entries);
void vmdq_fdb_destroy(struct vmdq_fdb *f);

/* The port for (mac, vlan), or -1.  A learned hit is not refreshed. */
int vmdq_fdb_lookup(const struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan);

/* Learns (mac, vlan) on port at now_ns: adds it, moves it, or refreshes it.
 * Static entries are never overridden by learning (returns -EPERM, so the
 * caller can count a frame claiming a vif's address from the wire).
 * -ENOSPC when full; 0 otherwise. */
int vmdq_fdb_learn(struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan, int port,
		   uint64_t now_ns);

/* Static entries: 0, -EEXIST (a static entry is there), -ENOSPC. */
int vmdq_fdb_add_static(struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan, int port);
/* 0 or -ENOENT. Removes static or learned. */
int vmdq_fdb_del(struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan);
/* Removes every entry (static and learned) pointing at port; returns how many. */
size_t vmdq_fdb_flush_port(struct vmdq_fdb *f, int port);
/* Removes learned entries not seen for max_age_ns; returns how many. */
size_t vmdq_fdb_age(struct vmdq_fdb *f, uint64_t now_ns, uint64_t max_age_ns);
size_t vmdq_fdb_count(const struct vmdq_fdb *f);
/* Copies up to max entries (any order); returns how many exist. */
size_t vmdq_fdb_dump(const struct vmdq_fdb *f, struct vmdq_fdb_entry *out, size_t max);

#endif
