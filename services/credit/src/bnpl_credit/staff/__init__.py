"""Staff reads of customers, applications and plans (issue 13), audited like every staff view."""
