"""What every service's domain shares: refusals with their reasons in English and Vietnamese, and the version check behind If-Match."""
