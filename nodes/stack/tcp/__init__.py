"""TCP (RFC 9293) as Linux behaves, sans-I/O.

Start with ``engine.TcpEngine`` (the host's TransportHandler: demux, listeners, SYN
cookies, ICMP, timers, counters) and ``api.TcpSocket`` (listen/accept/connect/send/recv/
shutdown/close/abort, options, readiness, ``info()`` like ``ss -ti``). One connection is
built in layers: ``tcb`` (variables, state changes via the one table in ``states``) <-
``output`` (sending, recovery) <- ``incoming`` (segment arrival) <- ``timers`` <-
``connection`` (opening, application calls). Helpers: ``seq`` (mod 2**32 arithmetic),
``buffers``, ``sack`` (scoreboard), ``rtt`` (RFC 6298), ``congestion`` (Reno, CUBIC),
``isn`` (RFC 6528), ``syncookies``, ``config`` (Linux defaults), ``counters``;
``testing`` has the fake IP layer and packetdrill-style harnesses the tests use.
"""
