fn main() {
    println!("luka");
}
