"""The node agent: gRPC NodeAgent service (proto/wirelab/v1/node.proto) in front of one
node's stack.

    __main__.py   container entry: ``python -m nodes.agent --listen 0.0.0.0:PORT``
    server.py     grpc.Server with the service, health checking and reflection
    servicer.py   proto <-> domain translation; stack access only through the loop
    convert.py    request validation (INVALID_ARGUMENT messages naming the field)
    topb.py       domain -> response messages
    runtime.py    NodeRuntime: Configure builds Host/Router + ports + FaultEngine + Runner
    jobs.py       long-running RPCs as sans-I/O apps completed from inside the loop
    events.py     WatchEvents: link / TCP state / fault changes
    capture.py    Capture: a runner tap producing pcap records (pcap.py)
    config.py     NodeConfig and building the stack from it
    inprocess.py  in-memory ports for nodes in this process (the sim backend, tests)
"""
