"""Who signs in and how: local passwords, LDAP / Active Directory and OpenID Connect, with the
directory's groups mirrored into Django groups (which collections' readers are), a periodic
re-check of directory accounts, and the sign-in audit trail."""
