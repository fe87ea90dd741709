# A stand-in for Vivado's Tcl commands, to run a generated block_design.tcl or
# package_ip.tcl with tclsh:
#
#   tclsh deploy_mock_vivado.tcl LOG IP_COUNT AXIS_SLAVES SCRIPT [SCRIPT_ARGS...]
#
# Every Vivado command the script calls is appended to LOG as one line (the command and
# its arguments, as a Tcl list). get_ipdefs finds IP_COUNT IPs; the accelerator has
# AXIS_SLAVES AXI-Stream slave interfaces; the block design has one processor system
# reset. launch_runs writes a fake bitstream and hardware handoff where Vivado would.
# ipx::package_project writes a fake component.xml into its -root_dir and "infers" two
# bus interfaces (input_words, ap_clk) that ipx::get_bus_interfaces lists.

lassign $argv log_path ip_count axis_slaves script
set argv [lrange $argv 4 end]
set argc [llength $argv]
set log [open $log_path w]
set mock(project_dir) ""
set mock(bd_name) ""

proc record {args} {
    puts $::log $args
    flush $::log
}

foreach command {set_property update_ip_catalog apply_bd_automation connect_bd_intf_net connect_bd_net
                 assign_bd_address validate_bd_design save_bd_design generate_target add_files
                 update_compile_order wait_on_run close_project} {
    proc $command {args} "record $command {*}\$args"
}
namespace eval ipx {}
foreach command {remove_bus_interface create_xgui_files update_checksums check_integrity save_core} {
    proc ipx::$command {args} "record ipx::$command {*}\$args"
}
proc ipx::package_project {args} {
    record ipx::package_project {*}$args
    set root [lindex $args [expr {[lsearch $args -root_dir] + 1}]]
    file mkdir $root
    set f [open [file join $root component.xml] w]; puts $f "<fake component/>"; close $f
}
proc ipx::current_core {} { return core }
proc ipx::get_bus_interfaces {args} { return {busif:input_words busif:ap_clk} }
proc ipx::add_bus_interface {name core} {
    record ipx::add_bus_interface $name $core
    return busif:$name
}
proc ipx::add_port_map {logical interface} {
    record ipx::add_port_map $logical $interface
    return portmap:$interface:$logical
}
proc ipx::add_bus_parameter {name interface} {
    record ipx::add_bus_parameter $name $interface
    return parameter:$interface:$name
}
proc get_bd_cells {args} {
    record get_bd_cells {*}$args
    return /rst_ps_0
}
proc get_bd_pins {args} {
    if {[lindex $args 0] ne "-of_objects"} {
        return /[lindex $args 0]
    }
    lassign $args - cells - filter
    return [lmap cell $cells { string cat $cell /peripheral_aresetn }]
}
proc current_project {} { return project_1 }
proc current_fileset {} { return sources_1 }
proc get_runs {name} { return $name }
proc get_files {name} { return /files/$name }
proc make_wrapper {args} { record make_wrapper {*}$args; return /files/wrapper.v }
proc get_property {name object} {
    if {$name eq "NAME" && [string match busif:* $object]} {
        return [string range $object 6 end]
    }
    return [expr {$name eq "PROGRESS" ? "100%" : ""}]
}

proc create_project {name dir args} {
    record create_project $name $dir {*}$args
    set ::mock(project_dir) $dir
    set ::mock(project) $name
}
proc create_bd_design {name} {
    record create_bd_design $name
    set ::mock(bd_name) $name
}
proc create_bd_cell {args} {
    record create_bd_cell {*}$args
    return /[lindex $args end]
}
proc get_ipdefs {args} {
    record get_ipdefs {*}$args
    set pattern [lindex $args end]
    return [lrepeat $::ip_count [string map {* x} $pattern]]
}
proc get_bd_intf_pins {args} {
    if {[lindex $args 0] ne "-of_objects"} {
        return /[lindex $args 0]
    }
    lassign $args - cell - filter
    if {[string match "*axis_rtl*" $filter] && [string match "*Slave*" $filter]} {
        set pins {}
        for {set i 0} {$i < $::axis_slaves} {incr i} { lappend pins $cell/in_stream$i }
        return $pins
    }
    if {[string match "*axis_rtl*" $filter]} { return $cell/out_stream }
    return $cell/s_axi_control
}
proc launch_runs {args} {
    record launch_runs {*}$args
    set runs [file join $::mock(project_dir) $::mock(project).runs impl_1]
    set handoff [file join $::mock(project_dir) $::mock(project).gen sources_1 bd $::mock(bd_name) hw_handoff]
    file mkdir $runs $handoff
    set f [open [file join $runs $::mock(bd_name)_wrapper.bit] w]; puts $f "fake bitstream"; close $f
    set f [open [file join $handoff $::mock(bd_name).hwh] w]; puts $f "<fake hwh/>"; close $f
}

source $script
close $log
