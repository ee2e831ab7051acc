"""One module per API area; each method is a typed signature and one line that hands its
operation (an entry of ``r9s._core.api``) to the client's drivers.  Imported lazily, on
first use of ``client.<resource>``."""
