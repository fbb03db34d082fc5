# Fuzz targets of the witness: add-checkpoint bodies (parser and decision), tlog-policy files.
if(TARGET scitt_cose)
  foreach(t witness_request tlog_policy witness_receipt)
    scitt_fuzz_target(${t} SOURCES ${t}.c LIBS scitt)
  endforeach()
endif()
# The request head of `scitt witness serve` and its key file (tools/witness_http.c).
if(TARGET scitt AND TARGET scitt_tools)
  scitt_fuzz_target(tools_witness_http SOURCES tools_witness_http.c LIBS scitt_tools scitt)
endif()
