#ifndef TANDEM_EVENT_RING_H
#define TANDEM_EVENT_RING_H

// The kernel hands each conntrack event to a netlink socket as a buffer of its own, and
// taking it off the socket (dequeue, copy, free, one recvmmsg slot each) cost a sender
// about as much as everything else it does for the flow. A socket filter program copies
// each event into a BPF ring buffer instead and drops the buffer where it was made; the
// daemon reads the ring in place, with no system call per event.
//
// The ring is small (it is mapped into the daemon and counts in its resident size); when
// it is full the event goes to the socket as before, and so does every later one until the
// daemon has read the ring and then the socket empty and ended the spill: order is kept,
// save for an event passed to the socket in the instant the spill ended.

enum { EVENT_RING_LARGEST = 2048 };

struct clinux_event_ring {
    int ring_fd, control_fd, program_fd;
    void *consumer, *producer;
    unsigned char *data;
    // [0]: spilling (the program sets it, the daemon clears it); [1]: spills counted.
    unsigned long long *control;
    unsigned long size;
};

// Creates the ring (`bytes`: a power of two, at least a page), its control word and the
// program; `echo_port` (0: none) is the netlink port whose own writes' events are dropped.
// The verifier's log goes to `log` when given. 0, or -errno.
int clinux_event_ring_open(struct clinux_event_ring *r, unsigned long bytes, unsigned echo_port, char *log, unsigned log_size);
// Attaches the program to a netlink socket (SO_ATTACH_BPF); 0 or -1 with errno.
int clinux_event_ring_attach(const struct clinux_event_ring *r, int socket_fd);
void clinux_event_ring_close(struct clinux_event_ring *r);
// Copies up to `count` messages out of the ring into slots of `slot` bytes, lengths into
// `lengths`, and releases their space. Returns how many.
int clinux_event_ring_drain(struct clinux_event_ring *r, void *buffer, unsigned long slot, unsigned count, unsigned *lengths);
int clinux_event_ring_spilling(const struct clinux_event_ring *r);
void clinux_event_ring_end_spill(struct clinux_event_ring *r);
unsigned long long clinux_event_ring_spills(const struct clinux_event_ring *r);
// Whether records wait in the ring.
int clinux_event_ring_pending(const struct clinux_event_ring *r);

#endif
