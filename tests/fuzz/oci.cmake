# Fuzz target of what an OCI registry answers (tools/oci_wire.c: WWW-Authenticate challenges,
# token answers, referrers indexes, manifests, docker config.json, image references). Seeds:
# answers of docker-registry and the token service seen in cli.oci, written out by hand.
if(TARGET scitt AND TARGET scitt_tools)
  scitt_fuzz_target(tools_registry SOURCES tools_registry.c LIBS scitt_tools scitt)
endif()
