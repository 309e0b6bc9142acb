"""Identity provisioners: one small class per kind (``local``, ``ldap``) behind ``services.ports.IdentityProvisioner``,
named in ``identity.registry`` and built from the settings."""
