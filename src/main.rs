fn main() {
    println!("pgstrata");
}
