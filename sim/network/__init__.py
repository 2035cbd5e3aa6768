"""Safety and smart subnetworks, devices, services and alert channels."""
