# ct_embed_files(TARGET_VAR SYMBOL OUT_C FILES...)
# Generates OUT_C holding a table { name, text, length } of the given files,
# rebuilt whenever one of them changes. Used for schema.sql and the rules.
set(CT_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_run.cmake)
function(ct_embed_files symbol out_c)
    set(files ${ARGN})
    add_custom_command(
        OUTPUT ${out_c}
        COMMAND ${CMAKE_COMMAND} -DSYMBOL=${symbol} -DOUT=${out_c}
                "-DFILES=${files}" -P ${CT_EMBED_SCRIPT}
        DEPENDS ${files} ${CT_EMBED_SCRIPT}
        COMMENT "Embedding ${symbol}"
        VERBATIM)
endfunction()
