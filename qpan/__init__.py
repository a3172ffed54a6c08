"""qpan: a warehouse of QP-AN indicators from Vietnamese local-government news."""
