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
 *
 * Source addresses come from the wire and are chosen by whoever sends
 * there, so nothing an attacker picks may make the table slow:
 * - the slot is chosen by SipHash-2-4 (libsodium's crypto_shorthash) under a
 *   16-byte key drawn at random when the FDB is created, so a sender
 *   cannot tell which addresses share a slot;
 * - no entry lives more than VMDQ_FDB_PROBE_MAX slots from its home slot:
 *   a lookup, learn or delete walks at most that many slots, whatever was
 *   learned before (a learn that finds no free slot in reach is refused and
 *   counted);
 * - the table has at least 4 slots per entry (load <= 1/4), so with a
 *   random key an honest table practically never meets that bound;
 * - ageing can be done a bounded number of slots at a time
 *   (vmdq_fdb_age_step);
 * - each port may have a limit on the entries learned on it, like Linux's
 *   bridge max_learned.
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

/* The most slots any operation examines for one key. */
#define VMDQ_FDB_PROBE_MAX 32
#define VMDQ_FDB_KEY_BYTES 16
/* Ports 0..VMDQ_FDB_PORTS-1 have their own learning count and limit; all
 * other port numbers share one more.  The switch's ports: the uplink and a
 * vif per device queue (4096). */
#define VMDQ_FDB_PORTS 4097

/* What the FDB refused or did, since it was created. */
struct vmdq_fdb_stats {
	uint64_t learned;        /* new learned entries */
	uint64_t moved;          /* learned entries that changed port */
	uint64_t refused_full;   /* learn: the table held max_entries */
	uint64_t refused_probe;  /* learn: no free slot within VMDQ_FDB_PROBE_MAX */
	uint64_t refused_port;   /* learn: the port was at its learning limit */
	uint64_t refused_static; /* learn: a static entry on another port (-EPERM) */
	uint64_t evicted;        /* learned entries a static entry took the slot of */
	uint64_t aged;           /* learned entries removed by ageing */
	uint64_t age_examined;   /* slots the incremental ageing examined */
	uint64_t yielded;        /* static entries that moved to another port
				  * (vmdq_fdb_yield: a VM that left its vif) */
	uint64_t reclaimed;      /* static entries put back (vmdq_fdb_reclaim) */
	uint32_t max_probe;      /* most slots from its home any entry was placed
				  * (1: in its home slot); <= VMDQ_FDB_PROBE_MAX */
};

/* max_entries: how many entries it can hold.  The hash key is random. */
struct vmdq_fdb *vmdq_fdb_create(size_t max_entries);
/* The same with a fixed hash key (tests, reproducible benchmarks). */
struct vmdq_fdb *vmdq_fdb_create_keyed(size_t max_entries,
				       const uint8_t key[VMDQ_FDB_KEY_BYTES]);
void vmdq_fdb_destroy(struct vmdq_fdb *f);

/* The port for (mac, vlan), or -1.  A learned hit is not refreshed. */
int vmdq_fdb_lookup(const struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan);
/* How many slots a lookup of (mac, vlan) examines (1..VMDQ_FDB_PROBE_MAX). */
unsigned vmdq_fdb_probes(const struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan);
/* The slot (mac, vlan)'s probe starts at: the keyed hash's verdict, for the
 * tests, the fuzzer and the benchmark, which aim addresses at slots (the
 * switch never shows it to anyone). */
uint32_t vmdq_fdb_home(const struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan);

/* Learns (mac, vlan) on port at now_ns: adds it, moves it, or refreshes it.
 * Static entries are never overridden by learning (returns -EPERM, so the
 * caller can count a frame claiming a vif's address from the wire).
 * -ENOSPC when full or when no slot is free within VMDQ_FDB_PROBE_MAX of the
 * key's home; -EDQUOT when port is at its learning limit (a new entry or a
 * move to it); 0 otherwise.  Every refusal is counted in the stats. */
int vmdq_fdb_learn(struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan, int port,
		   uint64_t now_ns);
/* At most max entries may be learned on port (0: no limit, the default).
 * port -1 sets every port's limit (set particular ports after).  Entries
 * already there stay.  0 or -EINVAL. */
int vmdq_fdb_set_learn_limit(struct vmdq_fdb *f, int port, size_t max);
/* Learned entries on port now. */
size_t vmdq_fdb_learned_on(const struct vmdq_fdb *f, int port);

/* Static entries: 0, -EEXIST (a static entry is there), -ENOSPC (the table
 * holds max_entries, or every slot within reach of its home is static).
 * When only learned entries are within reach, one of them makes room. */
int vmdq_fdb_add_static(struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan, int port);
/* A VM left its vif (live migration: its MAC was seen on port `to`, the
 * uplink): the static entry (mac, vlan) of port `from` becomes an entry
 * learned on `to` at now_ns, which ages as any.  0; -ENOENT if (mac, vlan)
 * is not static on `from` (nothing done); -EDQUOT if `to` is at its
 * learning limit (the static entry is removed all the same, counted
 * refused_port).  Counted (yielded) but for -ENOENT. */
int vmdq_fdb_yield(struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan, int from, int to,
		   uint64_t now_ns);
/* The VM is back on its vif: (mac, vlan) static on port again, whatever
 * was learned for it.  0 (counted: reclaimed; nothing done and not counted
 * if it is static on port already), -EEXIST (static on another port) or
 * -ENOSPC, as vmdq_fdb_add_static. */
int vmdq_fdb_reclaim(struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan, int port);
/* 0 or -ENOENT. Removes static or learned. */
int vmdq_fdb_del(struct vmdq_fdb *f, const uint8_t mac[6], uint16_t vlan);
/* Removes every entry (static and learned) pointing at port; returns how many. */
size_t vmdq_fdb_flush_port(struct vmdq_fdb *f, int port);
/* Removes learned entries not seen for max_age_ns; returns how many.  One
 * pass over the whole table. */
size_t vmdq_fdb_age(struct vmdq_fdb *f, uint64_t now_ns, uint64_t max_age_ns);
/* The same, a part at a time: examines at most budget slots, from where the
 * last call stopped (a new pass starts at slot 0 when none is under way),
 * and removes the learned entries among them not seen for max_age_ns.
 * Removing an entry also walks its probe cluster (a few slots; at most to
 * the next free slot).  Returns how many it removed.  An entry deleted or
 * moved by other calls during a pass may be left for the next pass. */
size_t vmdq_fdb_age_step(struct vmdq_fdb *f, uint64_t now_ns, uint64_t max_age_ns,
			 size_t budget);
/* True while an incremental ageing pass is under way. */
bool vmdq_fdb_age_pending(const struct vmdq_fdb *f);
size_t vmdq_fdb_count(const struct vmdq_fdb *f);
/* Copies up to max entries (any order); returns how many exist. */
size_t vmdq_fdb_dump(const struct vmdq_fdb *f, struct vmdq_fdb_entry *out, size_t max);
void vmdq_fdb_get_stats(const struct vmdq_fdb *f, struct vmdq_fdb_stats *out);

#endif
