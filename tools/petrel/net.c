/*
 * net.c - address parsing and sockets for the petrel command.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int copy_part(char *dst, size_t cap, const char *src, size_t len)
{
    if (len == 0 || len >= cap) {
        return -1;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

int net_split(const char *spec, char *host, size_t host_cap, char *port, size_t port_cap, char *why,
              size_t why_cap)
{
    const char *colon = strrchr(spec, ':');
    const char *h = spec;
    size_t hlen = colon != NULL ? (size_t)(colon - spec) : 0;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        colon = close != NULL && close[1] == ':' ? close + 1 : NULL;
        h = spec + 1;
        hlen = close != NULL ? (size_t)(close - h) : 0;
    }
    if (colon == NULL || copy_part(host, host_cap, h, hlen) != 0 ||
        copy_part(port, port_cap, colon + 1, strlen(colon + 1)) != 0) {
        snprintf(why, why_cap, "'%s' is not HOST:PORT (IPv6 as [::1]:PORT)", spec);
        return -1;
    }
    char *end = NULL;
    long p = strtol(port, &end, 10);
    if (*end != '\0' || p < 0 || p > 65535) {
        snprintf(why, why_cap, "'%s' is not a port number", port);
        return -1;
    }
    return 0;
}

static size_t add_numeric(const char *host, const char *port, net_addr *out, char *why,
                          size_t why_cap)
{
    struct addrinfo hints = {0};
    struct addrinfo *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(why, why_cap, "cannot use host '%s': %s (give a numeric address or localhost)",
                 host, gai_strerror(rc));
        return 0;
    }
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return 1;
}

size_t net_resolve(const char *host, const char *port, net_addr *out, size_t max, char *why,
                   size_t why_cap)
{
    if (max < 2) {
        return 0;
    }
    if (strcmp(host, "localhost") == 0) {
        size_t n = add_numeric("127.0.0.1", port, &out[0], why, why_cap);
        return n + add_numeric("::1", port, &out[n], why, why_cap);
    }
    return add_numeric(host, port, out, why, why_cap);
}

int net_connect(const net_addr *addrs, size_t count, char *why, size_t why_cap)
{
    int err = 0;
    for (size_t i = 0; i < count; i++) {
        int fd = socket(addrs[i].ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (connect(fd, (const struct sockaddr *)&addrs[i].ss, addrs[i].len) == 0) {
            return fd;
        }
        err = errno;
        close(fd);
    }
    char where[80] = "?";
    if (count > 0) {
        net_format((const struct sockaddr *)&addrs[count - 1].ss, where, sizeof(where));
    }
    snprintf(why, why_cap, "cannot connect to %s: %s", where, strerror(err));
    return -1;
}

int net_listen(const net_addr *addr, char *why, size_t why_cap)
{
    char where[80];
    net_format((const struct sockaddr *)&addr->ss, where, sizeof(where));
    int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0 || listen(fd, 16) != 0) {
        snprintf(why, why_cap, "cannot listen on %s: %s", where, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

void net_format(const struct sockaddr *sa, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
        snprintf(buf, cap, "%s:%u", host, port);
        return;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
    }
    snprintf(buf, cap, "[%s]:%u", host, port);
}

int net_set_nonblocking(int fd, bool on)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) {
        return -1;
    }
    flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    return fcntl(fd, F_SETFL, flags);
}
