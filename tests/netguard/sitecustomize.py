"""Loaded by every Python process started with this folder on PYTHONPATH (tests only).

Blocks every network connection except to this machine (loopback, Unix sockets: the local
Dask cluster talks over 127.0.0.1), and records each attempt to the file named by
``ATTUNE_NETGUARD_LOG``, so a test can prove that a whole command, worker processes
included, never tried to reach the network.
"""

import ipaddress
import os
import socket

_LOG = os.environ.get("ATTUNE_NETGUARD_LOG")


def _record(what):
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()} {what!r}\n")


def _local(host):
    if host in (None, "", "localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


if _LOG:
    _connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
            _record(address)
            raise OSError("network blocked by the test guard")
        return _connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
            _record(address)
            return 111  # ECONNREFUSED
        return _connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _local(host if not isinstance(host, bytes) else host.decode()):
            _record(("getaddrinfo", host))
            raise socket.gaierror(socket.EAI_NONAME, "network blocked by the test guard")
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo
