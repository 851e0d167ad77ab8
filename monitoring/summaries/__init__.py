"""Summary tables of the monitoring views: what they count (``metrics``), how they are
made and kept current (``refresh``, ``job``) and how the views read them (``read``)."""
