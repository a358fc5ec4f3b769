"""Staff reads of customers' profiles: a masked lookup and a full view asked for with a reason,
each recorded in the user service's own append-only audit log (issue 13)."""
