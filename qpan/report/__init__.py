"""Report: the static HTML report of the published marts, and `qpan show`."""
