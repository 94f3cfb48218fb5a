/*
 * net.h - addresses and sockets for the petrel command.
 *
 * Hosts are numeric (127.0.0.1, ::1, [::1]) or "localhost", resolved without
 * any name service, so the command never sends a DNS query.
 */
#ifndef PETREL_NET_H
#define PETREL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct net_addr {
    struct sockaddr_storage ss;
    socklen_t len;
} net_addr;

/* Splits "HOST:PORT" or "[V6]:PORT". host receives the host part without
 * brackets. Returns 0, or -1 with a sentence in why. */
int net_split(const char *spec, char *host, size_t host_cap, char *port, size_t port_cap, char *why,
              size_t why_cap);
/* Resolves HOST and PORT into at most max addresses ("localhost" gives
 * 127.0.0.1 then ::1). Returns the count, 0 with a sentence in why. */
size_t net_resolve(const char *host, const char *port, net_addr *out, size_t max, char *why,
                   size_t why_cap);
/* Connected stream socket to the first address that answers, or -1. */
int net_connect(const net_addr *addrs, size_t count, char *why, size_t why_cap);
/* Listening socket (SO_REUSEADDR), or -1. */
int net_listen(const net_addr *addr, char *why, size_t why_cap);
/* "127.0.0.1:443" or "[::1]:443". */
void net_format(const struct sockaddr *sa, char *buf, size_t cap);
int net_set_nonblocking(int fd, bool on);

#endif
