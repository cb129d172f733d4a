# Hostile snapshots (issue 7): one ctest per case of tests/cli/hostile.sh.
foreach(case dotdot dotdot-first absolute symlink hardlink device bomb-1k
        bomb-total deep-json huge-numbers nan-like invalid-utf8
        invalid-utf8-name control-chars nul-bytes hostile-names lying-manifest same-arn
        sql-guard rules-dir-guard)
    add_test(NAME hostile_${case}
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/hostile.sh
                     $<TARGET_FILE:ctaudit> ${PROJECT_SOURCE_DIR} ${case})
    set_tests_properties(hostile_${case} PROPERTIES LABELS cli TIMEOUT 300)
endforeach()
