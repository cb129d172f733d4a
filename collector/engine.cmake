# Sources of the engine part of ctcollect, the library and the executable.
# (filled in by the collector engine work)
