"""The lab rack: the inventory of handsets and ports, leases, and discovery of what is attached."""
