"""The gRPC edges of the control plane: protobuf <-> domain, and nothing else.

- :mod:`.generic`: field-by-field conversion between protobuf messages and the domain's
  frozen records (names match; presence maps to None);
- :mod:`.lab`: the LabService's messages both ways, its client stub and status codes;
- :mod:`.agent`: the NodeAgent client the lab uses to drive our nodes.

Only these modules (and the servicers) import the generated protobuf code.
"""
