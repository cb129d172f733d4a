# Sources of the signing and credentials part of ctcollect (collector/).
set(CT_COLLECTOR_AUTH_SOURCES)
