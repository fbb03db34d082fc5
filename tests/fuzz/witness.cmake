# Fuzz targets of the witness: add-checkpoint bodies (parser and decision), tlog-policy files.
if(TARGET scitt_cose)
  foreach(t witness_request tlog_policy)
    scitt_fuzz_target(${t} SOURCES ${t}.c LIBS scitt)
  endforeach()
endif()
