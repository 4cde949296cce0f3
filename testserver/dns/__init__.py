"""``testserver dns``: the cluster DNS (kube-dns/CoreDNS's kubernetes plugin) on pyclientgo (issue 17).

An authoritative server for the cluster domain (``cluster.local``) fed by Services and EndpointSlices
over the wire:

- :mod:`~testserver.dns.records` — the zone: A/AAAA of ClusterIP Services, one record per ready
  endpoint of headless Services, SRV of named ports, hostnames of endpoints (StatefulSet pods through
  their headless Service), the SOA, NXDOMAIN;
- :mod:`~testserver.dns.server` — UDP and TCP on ``--port`` answering from the zone, with dnspython
  for message parsing and the wire format;
- :mod:`~testserver.dns.cli` — the command and its flags.
"""
