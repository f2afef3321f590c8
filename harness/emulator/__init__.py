"""An emulated Windows Phone 8.1 handset, reachable only through real transports."""
