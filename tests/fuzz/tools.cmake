# Fuzz targets of libscitt-client's response parsers (client_*: HTTP responses; problem details,
# the transparency configuration and query pages), of the scitt tool's parsers of untrusted bytes
# (tools_*: tar archives, OCI layout JSON, SNP report files, attestation inputs, CBOR diagnostic
# notation, entry bundles, 2023-era receipts, the auditor's state file) and of the CCF receipt
# verifier the tool added to the cose module. Seeds come from real runs of the CLI tests
# (responses of scittd, archives made by GNU tar, cli_fixtures' receipts, the virtee report and
# its certificates, service bundles, state files of audits); tools_corpus.sh writes them.
if(TARGET scitt AND TARGET scitt_client)
  foreach(t client_http_response client_wire)
    scitt_fuzz_target(${t} SOURCES ${t}.c LIBS scitt_client_static scitt)
    foreach(kind replay fuzz)
      if(TARGET ${kind}_${t})
        target_include_directories(${kind}_${t} PRIVATE ${CMAKE_SOURCE_DIR}/client)
      endif()
    endforeach()
  endforeach()
endif()
if(TARGET scitt AND TARGET scitt_tools)
  foreach(t tools_tar tools_oci tools_snp_file tools_diag tools_bundle tools_legacy tools_attest
            tools_audit_state)
    scitt_fuzz_target(${t} SOURCES ${t}.c LIBS scitt_tools scitt)
  endforeach()
endif()
if(TARGET scitt_cose)
  scitt_fuzz_target(receipt_ccf SOURCES receipt_ccf.c LIBS scitt)
  foreach(kind replay fuzz)
    if(TARGET ${kind}_receipt_ccf)
      target_include_directories(${kind}_receipt_ccf PRIVATE ${CMAKE_SOURCE_DIR}/cose)
    endif()
  endforeach()
endif()
